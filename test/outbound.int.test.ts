/** Every outbound AWS client gives up within its timeouts and attempts and says so with ONE typed
 * error: against a server that accepts connections and never answers (a stalled dependency) and a
 * port nobody listens on (a dead one). The real adapters, only their endpoints point here. */
import { createServer, type Server, type Socket } from "node:net";
import { DependencyUnavailableError } from "@gpuaas/core";
import { type OutboundSettings, pingTable } from "@gpuaas/core/aws";
import { createSfnWorkflow } from "@gpuaas/core/workflow";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDb } from "../packages/core/src/db/client";
import { freePort } from "../packages/local/src/dynamodb-local";

const outbound: OutboundSettings = { connectTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 };
const MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:gpuaas-test-JobWorkflow";

let stalled: Server;
const sockets = new Set<Socket>();
/** What the stalled server was sent, so a test can tell its client really called it. */
let received = "";
let stalledUrl: string;
let deadUrl: string;

beforeAll(async () => {
  // Reads requests and never answers, like a SIGSTOPped DynamoDB Local.
  stalled = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk) => (received += chunk.toString())).on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => stalled.listen(0, "127.0.0.1", r));
  stalledUrl = `http://127.0.0.1:${(stalled.address() as { port: number }).port}`;
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => stalled.close(r));
});

/** Runs `call`; returns what it threw and how long it took. */
async function failure(call: () => Promise<unknown>) {
  const started = Date.now();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

// Worst case: attempts × request timeout plus the SDK's backoff between them.
const budgetMs = outbound.maxAttempts * outbound.requestTimeoutMs + 1500;

describe("outbound AWS clients", () => {
  it.each([
    ["stalled", () => stalledUrl],
    ["refusing connections", () => deadUrl],
  ])("DynamoDB %s: DependencyUnavailableError within the budget", async (_, url) => {
    const db = createDb({ tableName: "t", region: "us-east-1", endpoint: url(), outbound });
    received = "";
    const { error, ms } = await failure(() => pingTable(db));
    if (url() === stalledUrl) expect(received).toMatch(/x-amz-target: DynamoDB_20120810\.GetItem/i);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ code: "SERVICE_UNAVAILABLE", dependency: "DynamoDB", retryAfterSeconds: expect.any(Number) });
    expect(ms).toBeLessThan(budgetMs);
  });

  it.each([
    ["stalled", () => stalledUrl],
    ["refusing connections", () => deadUrl],
  ])("Step Functions %s: DependencyUnavailableError within the budget", async (_, url) => {
    const saved = { ...process.env };
    // The SDK's service-specific endpoint setting; credentials so no provider chain is searched.
    Object.assign(process.env, { AWS_ENDPOINT_URL_SFN: url(), AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
    try {
      const workflow = createSfnWorkflow({ stateMachineArn: MACHINE, region: "us-east-1", outbound });
      received = "";
      const { error, ms } = await failure(() => workflow.startJob("01JZZZZZZZZZZZZZZZZZZZZZZZ"));
      if (url() === stalledUrl) expect(received).toMatch(/x-amz-target: AWSStepFunctions\.StartExecution/i);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({ dependency: "Step Functions" });
      expect(ms).toBeLessThan(budgetMs);
    } finally {
      process.env = saved;
    }
  });

  it("answers from the service pass through untouched (a missing table is not an outage)", async () => {
    const db = createDb({ tableName: "no-such-table", region: "us-east-1", endpoint: inject("dynamoEndpoint"), outbound });
    const { error } = await failure(() => pingTable(db));
    expect((error as Error).name).toBe("ResourceNotFoundException");
  });
});
