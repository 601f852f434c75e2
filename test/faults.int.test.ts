/** DynamoDB in trouble, through the HTTP app with the default timeouts: the real DynamoDB Local is
 * paused (SIGSTOP, a stalled dependency) and killed (a dead one). Every request answers a fast 503
 * SERVICE_UNAVAILABLE with Retry-After instead of hanging or a 500; once DynamoDB is back everything
 * works, retries with the same Idempotency-Key get exactly one job each, and nothing is half-written. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Core, loadConfig } from "@gpuaas/core";
import { ensureTable } from "@gpuaas/core/aws";
import { createApp } from "@gpuaas/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJobItem } from "../packages/core/src/job/store";
import { newId } from "../packages/core/src/util/id";
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from "../packages/local/src/dynamodb-local";
import type { LocalWorkflowEngine } from "../packages/local/src/workflow-engine";
import { auditTable, readTable } from "./support/audit";
import { engineCore, TEST_SIGNING_KEY, withReactions } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";
import { eventually } from "./support/wait";

/** Longest a request may take while DynamoDB does not answer: 3 attempts × 2 s plus backoff, with room. */
const FAST_MS = 9_000;

const dataDir = mkdtempSync(join(tmpdir(), "gpuaas-faults-"));
let port: number;
let dynamo: DynamoDbLocal;
let engine: LocalWorkflowEngine;
let app: ReturnType<typeof createApp>;
let core: Core;
let db: Core["db"];

beforeAll(async () => {
  port = await freePort();
  dynamo = await startDynamoDbLocal({ dataDir, port });
  // The default AWS_* timeouts and attempts: what npm start and the Lambdas run with.
  const config = loadConfig({
    TABLE_NAME: `faults-${newId().toLowerCase()}`,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    JWT_SIGNING_KEY: JSON.stringify(TEST_SIGNING_KEY),
    SIMULATION_SECONDS_PER_HOUR: "3600",
    LOG_LEVEL: "SILENT",
  });
  const built = engineCore(config);
  engine = built.engine;
  core = built.core;
  db = core.db;
  await ensureTable(db.client, db.table);
  await withReactions(core);
  app = createApp(built.core);
}, 60_000);

afterAll(async () => {
  await engine?.shutdown();
  try {
    process.kill(dynamo.pid, "SIGCONT");
  } catch {
    // already gone
  }
  await dynamo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends `request` and reports its status, body, Retry-After and how long it took. */
async function timed(request: Promise<Awaited<ReturnType<typeof call>>>) {
  const started = Date.now();
  const res = await request;
  return { status: res.status, body: res.body, retryAfter: res.headers.get("retry-after"), ms: Date.now() - started };
}

const expectUnavailable = (res: Awaited<ReturnType<typeof timed>>) => {
  expect(res).toMatchObject({ status: 503, body: { error: { code: "SERVICE_UNAVAILABLE" } } });
  expect(Number(res.retryAfter)).toBeGreaterThan(0);
  expect(res.ms).toBeLessThan(FAST_MS);
};

/** Waits until every open job's execution rests (parked on a token), so the table stops moving. */
async function quiet(ids: string[]) {
  const api = lifecycleApi(app, engine);
  for (const id of ids) {
    await api.untilWaiting(id);
    // The engine knows it waits as soon as the step runs; the token's write lands a moment later.
    await eventually(`job ${id}'s token parked`, async () => (await getJobItem(db, id, true))?.taskToken !== undefined);
  }
}

describe("DynamoDB paused and killed", () => {
  it("paused: requests in flight and new ones get a fast 503; after it resumes, retries get exactly one job each", async () => {
    const user = await signUp(app);
    const admin = await signUpAdmin(app, core);
    const api = lifecycleApi(app, engine);
    const pending = await api.submit(user.token);
    await quiet([pending.id]);

    // A burst of submissions, each with its own Idempotency-Key; DynamoDB stops answering mid-burst.
    const keys = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
    const burst = keys.map((key) =>
      timed(
        call(app, "POST", "/api/v1/jobs", {
          token: user.token,
          body: validJob({ estimatedHours: 0.25 }),
          headers: { "idempotency-key": key },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 40));
    process.kill(dynamo.pid, "SIGSTOP");
    try {
      const during = await Promise.all([
        timed(call(app, "GET", "/health")),
        timed(call(app, "GET", "/api/v1/jobs", { token: user.token })),
        timed(call(app, "POST", "/api/v1/jobs", { token: user.token, body: validJob() })),
        timed(call(app, "POST", `/api/v1/admin/jobs/${pending.id}/approve`, { token: admin.token })),
      ]);
      during.forEach(expectUnavailable);
      expect(during[0]!.body).toMatchObject({ status: "unavailable" });
      for (const res of await Promise.all(burst)) {
        if (res.status !== 201) expectUnavailable(res);
      }
    } finally {
      process.kill(dynamo.pid, "SIGCONT");
    }

    // Back: everything answers, and a retry of each burst request settles on exactly one job.
    // Resumed, DynamoDB Local first works through what queued up during the pause.
    await eventually(
      "DynamoDB to answer again after the pause",
      async () => (await call(app, "GET", "/health")).status === 200,
      20_000,
      250,
    );
    const retried = await Promise.all(
      keys.map((key) =>
        call(app, "POST", "/api/v1/jobs", {
          token: user.token,
          body: validJob({ estimatedHours: 0.25 }),
          headers: { "idempotency-key": key },
        }),
      ),
    );
    for (const res of retried) expect([200, 201]).toContain(res.status);
    const ids = retried.map((r) => r.body.id as string);
    expect(new Set(ids).size).toBe(keys.length);
    expect((await call(app, "POST", `/api/v1/admin/jobs/${pending.id}/approve`, { token: admin.token })).status).toBe(200);
    const mine = await call(app, "GET", "/api/v1/jobs?limit=100", { token: user.token });
    // The key-less submission made during the pause was answered 503, which promises nothing: its
    // transaction may have been sent before the answer and land once DynamoDB resumes (whole, as
    // every write), which is why retries carry an Idempotency-Key. Such a job has no execution until
    // the reconciler (or the next start) gives it one.
    const landed = mine.body.items.length - (keys.length + 1);
    expect([0, 1]).toContain(landed);
    await quiet(ids);
    expect(await auditTable(db)).toEqual([]);
    expect((await call(app, "GET", "/api/v1/me", { token: user.token })).body.quota).toMatchObject({
      reservedHours: 1 + keys.length * 0.25 + landed,
    });
  }, 60_000);

  it("killed: requests get a fast 503 and change nothing; after a restart on the same data everything works", async () => {
    const user = await signUp(app);
    const admin = await signUpAdmin(app, core);
    const api = lifecycleApi(app, engine);
    const pending = await api.submit(user.token);
    await quiet([pending.id]);
    const before = await readTable(db);

    process.kill(dynamo.pid, "SIGKILL");
    await dynamo.stop();
    const during = await Promise.all([
      timed(call(app, "GET", "/health")),
      timed(call(app, "GET", `/api/v1/jobs/${pending.id}`, { token: user.token })),
      timed(call(app, "POST", "/api/v1/jobs", { token: user.token, body: validJob(), headers: { "idempotency-key": "while-dead" } })),
      timed(call(app, "POST", `/api/v1/admin/jobs/${pending.id}/reject`, { token: admin.token, body: { reason: "no" } })),
      timed(call(app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })),
    ]);
    during.forEach(expectUnavailable);

    dynamo = await startDynamoDbLocal({ dataDir, port });
    // Resumed, DynamoDB Local first works through what queued up during the pause.
    await eventually(
      "DynamoDB to answer again after the pause",
      async () => (await call(app, "GET", "/health")).status === 200,
      20_000,
      250,
    );
    expect(await readTable(db)).toEqual(before);
    const retry = await call(app, "POST", "/api/v1/jobs", {
      token: user.token,
      body: validJob(),
      headers: { "idempotency-key": "while-dead" },
    });
    expect(retry.status).toBe(201);
    expect(
      (await call(app, "POST", `/api/v1/admin/jobs/${pending.id}/reject`, { token: admin.token, body: { reason: "no" } })).status,
    ).toBe(200);
    await quiet([retry.body.id]);
    expect(await auditTable(db)).toEqual([]);
  }, 60_000);
});
