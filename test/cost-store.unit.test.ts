/** The cost store's writes and reads as DynamoDB receives them (aws-sdk-client-mock, no network):
 * the conditional replacement of a day's snapshots, and the keys of the report's index queries. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { CostDayItem } from "../packages/core/src/cost/snapshot";
import { listOwnedOrgIds, listUsageByOwner, replaceCostDay } from "../packages/core/src/cost/store";
import type { Db } from "../packages/core/src/db/client";

const ddb = mockClient(DynamoDBDocumentClient);
const db: Db = {
  client: new DynamoDBClient({ region: "eu-west-1" }),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1" })),
  table: "t",
};
beforeEach(() => ddb.reset());

const snapshot = (n: number): CostDayItem => ({
  pk: "COST#2026-01-01",
  sk: `PROVIDER#p${String(n).padStart(3, "0")}#GPU#A100`,
  type: "CostSnapshot",
  day: "2026-01-01",
  provider: `p${n}`,
  gpuType: "A100",
  costMicros: n,
  gpuMilli: n,
  jobCount: 1,
});
const summary: CostDayItem = {
  pk: "COST#2026-01-01",
  sk: "ROLLUP",
  type: "CostRollup",
  day: "2026-01-01",
  runId: "R2",
  jobsRead: 0,
  usageItemsRead: 0,
  runningJobsRead: 0,
  at: "2026-01-02T00:05:00.000Z",
};

describe("replaceCostDay", () => {
  it("puts the summary first, conditional on the run it read, then the snapshots and the deletes", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await replaceCostDay(db, "2026-01-01", [snapshot(1), summary], [{ pk: "COST#2026-01-01", sk: "ORG#gone" }], "R1");
    expect(ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems)).toEqual([
      [
        {
          Put: {
            TableName: "t",
            Item: summary,
            ConditionExpression: "runId = :previous",
            ExpressionAttributeValues: { ":previous": "R1" },
          },
        },
        { Put: { TableName: "t", Item: snapshot(1) } },
        { Delete: { TableName: "t", Key: { pk: "COST#2026-01-01", sk: "ORG#gone" } } },
      ],
    ]);
  });

  it("requires no summary yet on a first rollup, and writes at most 100 items per transaction", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await replaceCostDay(db, "2026-01-01", [...Array.from({ length: 150 }, (_, i) => snapshot(i)), summary], [], undefined);
    const calls = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(calls.map((items) => items.length)).toEqual([100, 51]);
    expect(calls[0]![0]).toEqual({ Put: { TableName: "t", Item: summary, ConditionExpression: "attribute_not_exists(pk)" } });
  });
});

describe("report queries", () => {
  it("reads one owner's usage days between two days on gsi1", async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await listUsageByOwner(db, "U1", "2026-01-01", "2026-01-31");
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: "t",
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": "USAGE#OWNER#U1", ":from": "2026-01-01#", ":to": "2026-01-31#~" },
      ExclusiveStartKey: undefined,
    });
  });

  it("finds the orgs a user owns from their Membership items, every page", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ orgId: "O1", role: "owner" }], LastEvaluatedKey: { pk: "USER#U1", sk: "ORG#O1" } })
      .resolvesOnce({ Items: [{ orgId: "O2", role: "owner" }] });
    expect(await listOwnedOrgIds(db, "U1")).toEqual(["O1", "O2"]);
    const inputs = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      FilterExpression: "#role = :owner",
      ExpressionAttributeValues: { ":pk": "USER#U1", ":prefix": "ORG#", ":owner": "owner" },
    });
    expect(inputs[1]!.ExclusiveStartKey).toEqual({ pk: "USER#U1", sk: "ORG#O1" });
  });
});
