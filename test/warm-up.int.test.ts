/** npm start's DynamoDB Local warm-up (local/warm-up.ts) on the shared DynamoDB Local: it runs its
 * mixed workload on a scratch table, removes that table and any a previous, interrupted start left,
 * and no other table; a budget of 0 does nothing, and a DynamoDB that is down does not stop it. */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { freePort } from "../packages/local/src/dynamodb-local";
import { warmUpDynamoDbLocal } from "../packages/local/src/warm-up";
import { recordingLog } from "./support/log";

const endpoint = inject("dynamoEndpoint");
const clientOf = (url: string) =>
  new DynamoDBClient({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 },
  });
const tables = async (client: DynamoDBClient) => (await client.send(new ListTablesCommand({}))).TableNames ?? [];

describe("warmUpDynamoDbLocal", () => {
  it("runs its calls on a scratch table, then deletes it and the scratch tables of an interrupted start, and nothing else", async () => {
    const client = clientOf(endpoint);
    const stale = `gpuaas-warm-up-stale-${Date.now()}`;
    await client.send(
      new CreateTableCommand({
        TableName: stale,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    const others = (await tables(client)).filter((t) => !t.startsWith("gpuaas-warm-up-"));
    const { log, lines } = recordingLog();
    const report = await warmUpDynamoDbLocal({ client, endpoint, region: "us-east-1", budgetMs: 400, log, concurrency: 4 });
    expect(lines.filter((l) => l.level === "warn")).toEqual([]);
    expect(report.calls).toBeGreaterThan(300); // the 300 seed items, then the mixed workload
    const after = await tables(client);
    expect(after.filter((t) => t.startsWith("gpuaas-warm-up-"))).toEqual([]);
    expect(others.every((t) => after.includes(t))).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", message: "DynamoDB Local warmed up" }));
  });

  it("does nothing with a budget of 0", async () => {
    const { log, lines } = recordingLog();
    expect(await warmUpDynamoDbLocal({ client: clientOf(endpoint), endpoint, region: "us-east-1", budgetMs: 0, log })).toEqual({
      calls: 0,
      ms: 0,
    });
    expect(lines).toEqual([]);
  });

  it("logs and returns when DynamoDB Local does not answer, so the stack still starts", async () => {
    const down = `http://127.0.0.1:${await freePort()}`; // a port nothing listens on
    const { log, lines } = recordingLog();
    const report = await warmUpDynamoDbLocal({ client: clientOf(down), endpoint: down, region: "us-east-1", budgetMs: 200, log });
    expect(report.calls).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", message: "DynamoDB Local warm-up cut short; starting anyway" }));
  });
});
