/** Domain events locally: the table's stream in DynamoDB Local → the local stream reader → a webhook
 * receiver (node:http on port 0). One "Job Status Change" per status change, in order; a webhook
 * that never answers slows neither the API nor the reader's stop. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Core } from "@gpuaas/core";
import { ensureTable, tableStreamArn } from "@gpuaas/core/aws";
import { createWebhookPublisher } from "@gpuaas/core/events";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WebhookOptions } from "../packages/core/src/event/webhook";
import { type EventStreamReader, startEventStream } from "../packages/local/src/event-stream";
import { testApp, testCore } from "./support/core";
import { signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";
import { eventually } from "./support/wait";

interface Receiver {
  url: string;
  bodies: any[];
  server: Server;
}

/** A webhook receiver that records every body; `hang` makes it never answer. */
async function receiver(hang = false): Promise<Receiver> {
  const bodies: any[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      if (!hang) res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

const closeReceiver = (r?: Receiver) =>
  new Promise<void>((resolve) => {
    if (!r) return resolve();
    r.server.closeAllConnections();
    r.server.close(() => resolve());
  });

async function reader(core: Core, webhook: Omit<WebhookOptions, "signal">): Promise<EventStreamReader> {
  return startEventStream({
    endpoint: inject("dynamoEndpoint"),
    region: core.config.region,
    streamArn: (await tableStreamArn(core.db.client, core.db.table))!,
    outbound: core.config.outbound,
    publisher: (signal) => createWebhookPublisher({ ...webhook, signal }),
    log: core.log,
    pollMs: 50,
  });
}

describe("job status changes to a local webhook", () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let hook: Receiver;
  let events: EventStreamReader;
  beforeAll(async () => {
    // Runs wait for an admin's complete; no simulated outcome gets in the way.
    ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", SIMULATION_FAILURE_RATE: "0" });
    hook = await receiver();
    events = await reader(ctx.core, { url: hook.url });
  });
  afterAll(async () => {
    await events?.stop();
    await ctx?.engine.shutdown();
    await closeReceiver(hook);
  });

  it("PENDING → APPROVED → RUNNING → COMPLETED: one Job Status Change each, in order, matching the job's history", async () => {
    const api = lifecycleApi(ctx.app, ctx.engine);
    const admin = await signUpAdmin(ctx.app, ctx.core);
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token);
    expect((await api.act(admin.token, job.id, "approve")).status).toBe(200);
    await api.untilWaiting(job.id);
    expect((await api.act(admin.token, job.id, "start")).status).toBe(200);
    await api.untilInState(job.id, "SimulateGpuRuntime");
    expect((await api.act(admin.token, job.id, "complete")).status).toBe(200);
    await api.untilStatus(user.token, job.id, "COMPLETED");

    const ofJob = () => hook.bodies.filter((b) => b.detail.jobId === job.id);
    await eventually("four events at the webhook", () => ofJob().length >= 4, 10_000);
    const history = await api.events(user.token, job.id);
    expect(ofJob()).toEqual(
      history.map((e) => ({
        id: expect.stringMatching(new RegExp(`^JOB#${job.id}#EVENT#`)),
        source: "gpuaas",
        "detail-type": "Job Status Change",
        time: e.at,
        detail: {
          eventId: expect.any(String),
          jobId: job.id,
          status: e.status,
          actor: e.actor,
          ...(e.reason ? { reason: e.reason } : {}),
          at: e.at,
        },
      })),
    );
    expect(ofJob().map((b) => b.detail.status)).toEqual(["PENDING", "APPROVED", "RUNNING", "COMPLETED"]);
    // Nothing else arrives later (each event once).
    await new Promise((r) => setTimeout(r, 300));
    expect(ofJob()).toHaveLength(4);
    expect(new Set(ofJob().map((b) => b.id)).size).toBe(4);
  });

  it("a BudgetAlert item (as the budget check writes it) arrives as a Budget Threshold Crossed", async () => {
    const at = new Date().toISOString();
    const item = {
      pk: "ORG#org-e",
      sk: "ALERT#2026-11#100",
      type: "BudgetAlert",
      orgId: "org-e",
      period: "2026-11",
      threshold: 100,
      spendMicros: 250_000_000,
      budgetMicros: 250_000_000,
      at,
    };
    await ctx.core.db.doc.send(new PutCommand({ TableName: ctx.core.db.table, Item: item }));
    const alert = await eventually("the alert at the webhook", () => hook.bodies.find((b) => b.detail.orgId === "org-e"), 10_000);
    expect(alert).toEqual({
      id: "ORG#org-e#ALERT#2026-11#100",
      source: "gpuaas",
      "detail-type": "Budget Threshold Crossed",
      time: at,
      detail: { eventId: alert.id, orgId: "org-e", period: "2026-11", thresholdPercent: 100, spendUsd: "250.00", budgetUsd: "250.00", at },
    });
  });
});

describe("a webhook that never answers", () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let hook: Receiver;
  let events: EventStreamReader | undefined;
  beforeAll(async () => {
    ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600" });
    hook = await receiver(true);
  });
  afterAll(async () => {
    await events?.stop();
    await ctx?.engine.shutdown();
    await closeReceiver(hook);
  });

  it("slows neither the API nor the reader's stop", async () => {
    events = await reader(ctx.core, { url: hook.url, timeoutMs: 5000, attempts: 3 });
    const api = lifecycleApi(ctx.app, ctx.engine);
    const admin = await signUpAdmin(ctx.app, ctx.core);
    const user = await signUp(ctx.app);
    const timings: number[] = [];
    const jobs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const job = await api.submit(user.token, { estimatedHours: 0.5 });
      expect((await api.act(admin.token, job.id, "approve")).status).toBe(200);
      expect((await api.cancel(user.token, job.id)).status).toBe(200);
      timings.push(Date.now() - t0);
      jobs.push(job.id);
    }
    // The reader is stuck on the first delivery (5 s timeout) the whole time.
    await eventually("the webhook to be called", () => hook.bodies.length > 0);
    expect(Math.max(...timings)).toBeLessThan(1000);
    const t0 = Date.now();
    await events.stop();
    events = undefined;
    expect(Date.now() - t0).toBeLessThan(1000);
    for (const id of jobs) await ctx.engine.settled(id);
  });
});

describe("ensureTable and the stream", () => {
  it("enables the stream on a table created before it had one (an old local data dir)", async () => {
    const core = await testCore();
    const old = `${core.db.table}-old`;
    await core.db.client.send(
      new CreateTableCommand({
        TableName: old,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
    expect(await tableStreamArn(core.db.client, old)).toBeUndefined();
    expect(await ensureTable(core.db.client, old)).toBe("existed");
    const { Table } = await core.db.client.send(new DescribeTableCommand({ TableName: old }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" });
    expect(await tableStreamArn(core.db.client, core.db.table)).toMatch(/stream/);
  });
});
