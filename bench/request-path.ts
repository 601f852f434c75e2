/** The request path against the storage floor (issue 11). Starts `npm start` (bench/stack.ts: on-disk
 * DynamoDB Local, the local workflow engine, the HTTP server) and, in this process, a raw DynamoDB
 * client beside it on the same DynamoDB Local. Interleaves API requests with the raw calls they are
 * compared with, so both see the same machine at the same moment:
 *   - GET /api/v1/jobs/{id} vs one GetItem of that job;
 *   - POST /api/v1/jobs vs one 2-item TransactWriteItems (a quota-like Update + a job-sized Put);
 *   - 32 writers on distinct users: submissions/s, counted until every execution has parked its
 *     approval token, vs a raw replay of the calls a submission cannot avoid (UNAVOIDABLE below).
 * Run: npm run bench:path   (BENCH_ROUNDS, BENCH_WRITERS, BENCH_JOBS_PER_WRITER, BENCH_CPU_PROF=dir) */

import { performance } from "node:perf_hooks";
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { loadConfig } from "../packages/core/src/config/config";
import { createDb, type Db } from "../packages/core/src/db/client";
import { jobKeys } from "../packages/core/src/job/keys";
import { userKeys } from "../packages/core/src/user/keys";
import { call, closeHttp, expect } from "./http";
import { type BenchStack, startStack } from "./stack";
import { median, quantile } from "./stats";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const JOBS_PER_WRITER = Number(process.env.BENCH_JOBS_PER_WRITER ?? 15);
/** Request timeout of every DynamoDB call, the stack's and the raw client's alike: the default 2 s
 * turns a queue on an overloaded shared machine into 503s in the middle of a measurement. */
export const BENCH_TIMEOUT_MS = "10000";
const JOB = { name: "bench", image: "img:1", command: "run", gpuType: "A100", gpuCount: 1, estimatedHours: 0.01 };

export interface PathResults {
  rows: Record<string, string>[];
  figures: { ratioGet: number; ratioPost: number; ratioRate: number; apiRate: number; rawRate: number; ackRate: number };
}

async function users(stack: BenchStack, n: number, prefix: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const email = `${prefix}-${i}@example.com`;
    const password = "bench password 1";
    expect(await call(stack.url, "POST", "/api/v1/auth/register", undefined, { email, password, fullName: "Bench" }), 201, "register");
    tokens.push(expect(await call(stack.url, "POST", "/api/v1/auth/login", undefined, { email, password }), 200, "login").accessToken);
  }
  return tokens;
}

const time = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const value = await f();
  return [performance.now() - t, value];
};

export async function runRequestPath(stack: BenchStack): Promise<PathResults> {
  const config = loadConfig({
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    TABLE_NAME: stack.table,
    JWT_SIGNING_KEY: stack.signingKey,
    AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS,
  });
  const raw: Db = createDb({ tableName: stack.table, region: config.region, endpoint: stack.dynamoEndpoint, outbound: config.outbound });

  // A job item as the API stores it: the raw writes put items of the same size.
  const [seqToken] = await users(stack, 1, "seq");
  const first = expect(await call(stack.url, "POST", "/api/v1/jobs", seqToken, JOB), 201, "submit");
  const template = (await raw.doc.send(new GetCommand({ TableName: raw.table, Key: jobKeys.job(first.id) }))).Item!;

  const rawGet = (id: string) => raw.doc.send(new GetCommand({ TableName: raw.table, Key: jobKeys.job(id) }));
  /** The raw floor of a submission's write: a conditional quota-like Update and a job-sized Put. */
  const quotaLike = (owner: string) => ({
    Update: {
      TableName: raw.table,
      Key: { pk: `BENCHQUOTA#${owner}`, sk: "QUOTA" },
      UpdateExpression: "SET reservedMilli = if_not_exists(reservedMilli, :zero) + :m",
      ConditionExpression: "attribute_not_exists(pk) OR reservedMilli < :max",
      ExpressionAttributeValues: { ":zero": 0, ":m": 10, ":max": 1e15 },
    },
  });
  const jobLike = (id: string) => ({
    // The same index entries as a job (under BENCH-prefixed partitions, so no listing sees them).
    Put: {
      TableName: raw.table,
      Item: {
        ...template,
        pk: `BENCHJOB#${id}`,
        id,
        gsi1pk: `BENCH${template.gsi1pk}`,
        gsi1sk: id,
        gsi2pk: `BENCH${template.gsi2pk}`,
        gsi2sk: id,
        gsi3pk: `BENCH${template.gsi3pk}`,
        gsi3sk: id,
      },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  });
  const eventLike = (id: string) => ({
    Put: {
      TableName: raw.table,
      Item: {
        pk: `BENCHJOB#${id}`,
        sk: `EVENT#${new Date().toISOString()}#${ulid()}`,
        type: "JobEvent",
        jobId: id,
        status: "PENDING",
        actor: "u",
        reason: "submitted",
        at: new Date().toISOString(),
      },
    },
  });
  const rawTx2 = (owner: string) => raw.doc.send(new TransactWriteCommand({ TransactItems: [quotaLike(owner), jobLike(ulid())] }));
  const seqUserId = JSON.parse(Buffer.from(seqToken!.split(".")[1]!, "base64url").toString()).sub as string;
  /** The submission's own write, raw (the data model's floor): quota + job + its first event + the
   * account's ConditionCheck (exists and active). */
  const rawTx4 = (owner: string) => {
    const id = ulid();
    const account = {
      ConditionCheck: {
        TableName: raw.table,
        Key: userKeys.user(seqUserId),
        ConditionExpression: "attribute_exists(pk) AND active = :t",
        ExpressionAttributeValues: { ":t": true },
      },
    };
    return raw.doc.send(new TransactWriteCommand({ TransactItems: [quotaLike(owner), jobLike(id), eventLike(id), account] as never }));
  };
  /** What GET /jobs/{id} must read, raw: the job and the reader's account, one BatchGetItem. */
  const rawBatch2 = (id: string) =>
    raw.doc.send(new BatchGetCommand({ RequestItems: { [raw.table]: { Keys: [jobKeys.job(id), userKeys.user(seqUserId)] } } }));

  /** Resolves once the job's execution has parked its approval token (the engine's work for it is done). */
  const parkedOne = async (id: string) => {
    for (;;) {
      const { Item } = await raw.doc.send(
        new GetCommand({ TableName: raw.table, Key: jobKeys.job(id), ConsistentRead: true, ProjectionExpression: "taskToken" }),
      );
      if (Item?.taskToken) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  // Sequential, writes: one request at a time, API and raw interleaved; before each measured call the
  // previous job's execution has parked its token, so neither side meets the other's work.
  const jobs: string[] = [first.id];
  await parkedOne(first.id);
  const lat = {
    apiGet: [] as number[],
    rawGet: [] as number[],
    rawBatch2: [] as number[],
    apiPost: [] as number[],
    rawTx2: [] as number[],
    rawTx4: [] as number[],
    apiPostBusy: [] as number[],
    rawTx2Busy: [] as number[],
  };
  const warmup = Math.min(30, Math.ceil(ROUNDS / 5));
  for (let i = 0; i < warmup + ROUNDS; i++) {
    const [p, job] = await time(async () => expect(await call(stack.url, "POST", "/api/v1/jobs", seqToken, JOB), 201, "submit"));
    await parkedOne(job.id);
    const [rt] = await time(() => rawTx2("seq"));
    const [rt4] = await time(() => rawTx4("seq"));
    jobs.push(job.id);
    if (i < warmup) continue;
    lat.apiPost.push(p);
    lat.rawTx2.push(rt);
    lat.rawTx4.push(rt4);
  }
  // The same without waiting: each execution's work meets the next calls (the "competes").
  for (let i = 0; i < ROUNDS; i++) {
    const [p, job] = await time(async () => expect(await call(stack.url, "POST", "/api/v1/jobs", seqToken, JOB), 201, "submit"));
    const [rt] = await time(() => rawTx2("seq"));
    jobs.push(job.id);
    lat.apiPostBusy.push(p);
    lat.rawTx2Busy.push(rt);
  }
  await Promise.all(jobs.map(parkedOne));
  // Sequential, reads: nothing else in flight.
  for (let i = 0; i < warmup + ROUNDS; i++) {
    const id = jobs[Math.floor(Math.random() * jobs.length)]!;
    const [g] = await time(async () => expect(await call(stack.url, "GET", `/api/v1/jobs/${id}`, seqToken), 200, "get"));
    const [rg] = await time(() => rawGet(id));
    const [rb] = await time(() => rawBatch2(id));
    if (i < warmup) continue;
    lat.apiGet.push(g);
    lat.rawGet.push(rg);
    lat.rawBatch2.push(rb);
  }

  // Concurrent writers on distinct users, until every execution has parked its approval token.
  const tokens = await users(stack, WRITERS, "writer");
  const writerIds = tokens.map((t) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()).sub as string);
  const submitted: string[] = [];
  const parked = async (ids: string[]) => {
    let pending = ids;
    while (pending.length) {
      const still: string[] = [];
      for (let i = 0; i < pending.length; i += 100) {
        const batch = pending.slice(i, i + 100);
        const { Responses } = await raw.doc.send(
          new BatchGetCommand({
            RequestItems: { [raw.table]: { Keys: batch.map((id) => jobKeys.job(id)), ProjectionExpression: "id, taskToken" } },
          }),
        );
        const done = new Set((Responses?.[raw.table] ?? []).filter((j) => j.taskToken).map((j) => j.id as string));
        still.push(...batch.filter((id) => !done.has(id)));
      }
      pending = still;
      if (pending.length) await new Promise((r) => setTimeout(r, 5));
    }
  };
  const apiLatencies: number[] = [];
  const apiRun = async () => {
    const t = performance.now();
    await Promise.all(
      tokens.map(async (token) => {
        for (let j = 0; j < JOBS_PER_WRITER; j++) {
          const [ms, job] = await time(async () => expect(await call(stack.url, "POST", "/api/v1/jobs", token, JOB), 201, "submit"));
          apiLatencies.push(ms);
          submitted.push(job.id);
        }
      }),
    );
    const acked = performance.now() - t;
    await parked(submitted);
    return { acked, settled: performance.now() - t };
  };
  const replayLatencies: number[] = [];
  const rawReplay = async () => {
    const t = performance.now();
    await Promise.all(
      tokens.map(async (_, w) => {
        for (let j = 0; j < JOBS_PER_WRITER; j++) {
          const [ms] = await time(() => UNAVOIDABLE(raw, writerIds[w]!, { quotaLike, jobLike, eventLike }));
          replayLatencies.push(ms);
        }
      }),
    );
    return performance.now() - t;
  };
  // Raw, API, raw: the raw rate is the mean of the two runs around the API's.
  const r1 = await rawReplay();
  const api = await apiRun();
  const r2 = await rawReplay();
  const n = WRITERS * JOBS_PER_WRITER;
  const rawRate = n / ((r1 + r2) / 2 / 1000);
  const apiRate = n / (api.settled / 1000);
  const ackRate = n / (api.acked / 1000);

  const ratioGet = median(lat.apiGet) / median(lat.rawGet);
  const ratioPost = median(lat.apiPost) / median(lat.rawTx2);
  const ratioRate = apiRate / rawRate;
  const f = (x: number) => x.toFixed(2);
  const msf = (x: number) => `${x.toFixed(2)} ms`;
  const rows = [
    {
      figure: "GET /api/v1/jobs/{id} p50 ÷ raw GetItem p50",
      api: `${msf(median(lat.apiGet))} (p95 ${msf(quantile(lat.apiGet, 0.95))})`,
      raw: `${msf(median(lat.rawGet))} (p95 ${msf(quantile(lat.rawGet, 0.95))})`,
      ratio: f(ratioGet),
      goal: "≤ 1.3",
    },
    {
      figure: "POST /api/v1/jobs p50 ÷ raw 2-item TransactWriteItems p50",
      api: `${msf(median(lat.apiPost))} (p95 ${msf(quantile(lat.apiPost, 0.95))})`,
      raw: `${msf(median(lat.rawTx2))} (p95 ${msf(quantile(lat.rawTx2, 0.95))})`,
      ratio: f(ratioPost),
      goal: "≤ 1.5",
    },
    {
      figure: "(floor) GET p50 ÷ raw BatchGetItem of the job + the account p50",
      api: msf(median(lat.apiGet)),
      raw: msf(median(lat.rawBatch2)),
      ratio: f(median(lat.apiGet) / median(lat.rawBatch2)),
      goal: "",
    },
    {
      figure: "(floor) POST p50 ÷ raw submission transaction (quota + job + event + account check) p50",
      api: msf(median(lat.apiPost)),
      raw: msf(median(lat.rawTx4)),
      ratio: f(median(lat.apiPost) / median(lat.rawTx4)),
      goal: "",
    },
    {
      figure: "(floor) raw submission transaction ÷ raw 2-item TransactWriteItems p50",
      api: "",
      raw: `${msf(median(lat.rawTx4))} ÷ ${msf(median(lat.rawTx2))}`,
      ratio: f(median(lat.rawTx4) / median(lat.rawTx2)),
      goal: "",
    },
    {
      figure: "(POST p50 ÷ raw 2-item p50, no wait between calls)",
      api: msf(median(lat.apiPostBusy)),
      raw: msf(median(lat.rawTx2Busy)),
      ratio: f(median(lat.apiPostBusy) / median(lat.rawTx2Busy)),
      goal: "",
    },
    {
      figure: `submissions/s ÷ raw replay/s, ${WRITERS} writers × ${JOBS_PER_WRITER}`,
      api: `${apiRate.toFixed(0)}/s settled (${ackRate.toFixed(0)}/s acknowledged; p50 ${msf(median(apiLatencies))})`,
      raw: `${rawRate.toFixed(0)}/s (runs ${(n / (r1 / 1000)).toFixed(0)}, ${(n / (r2 / 1000)).toFixed(0)}; p50 ${msf(median(replayLatencies))})`,
      ratio: f(ratioRate),
      goal: "≥ 0.8",
    },
  ];
  raw.client.destroy();
  return { rows, figures: { ratioGet, ratioPost, ratioRate, apiRate, rawRate, ackRate } };
}

/**
 * Admission latency on the stack: a 1-GPU H100 pool, one job running on it and one approved job
 * waiting; an admin completes the running one (its capacity is released in that transaction) and
 * the clock runs until the waiting job is RUNNING (raw consistent GetItem polled every millisecond).
 */
export async function runAdmission(stack: BenchStack, rounds = Number(process.env.BENCH_ADMISSIONS ?? 20)) {
  const config = loadConfig({
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    TABLE_NAME: stack.table,
    JWT_SIGNING_KEY: stack.signingKey,
    AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS,
  });
  const raw: Db = createDb({ tableName: stack.table, region: config.region, endpoint: stack.dynamoEndpoint, outbound: config.outbound });
  const admin = expect(await call(stack.url, "POST", "/api/v1/auth/login", undefined, stack.admin), 200, "admin login")
    .accessToken as string;
  const [token] = await users(stack, 1, "admission");
  expect(
    await call(stack.url, "POST", "/api/v1/admin/clusters", admin, {
      name: "bench-h100",
      provider: "lambda",
      region: "us-east-1",
      gpuType: "H100",
      totalGpus: 1,
      totalCpu: 8,
      totalRamGb: 64,
    }),
    201,
    "pool",
  );
  const H100 = { ...JOB, gpuType: "H100", estimatedHours: 100 };
  const status = async (id: string) =>
    (
      await raw.doc.send(
        new GetCommand({
          TableName: raw.table,
          Key: jobKeys.job(id),
          ConsistentRead: true,
          ProjectionExpression: "#s, taskToken",
          ExpressionAttributeNames: { "#s": "status" },
        }),
      )
    ).Item;
  const until = async (id: string, ok: (item: Record<string, unknown> | undefined) => boolean) => {
    while (!ok(await status(id))) await new Promise((r) => setTimeout(r, 1));
  };
  const submitApproved = async () => {
    const job = expect(await call(stack.url, "POST", "/api/v1/jobs", token, H100), 201, "submit");
    await until(job.id, (j) => Boolean(j?.taskToken)); // parked at AwaitApproval
    expect(await call(stack.url, "POST", `/api/v1/admin/jobs/${job.id}/approve`, admin), 200, "approve");
    return job.id as string;
  };
  let runningId = await submitApproved();
  await until(runningId, (j) => j?.status === "RUNNING");
  const release: number[] = [];
  const toRunning: number[] = [];
  for (let i = 0; i < rounds + 2; i++) {
    const waitingId = await submitApproved();
    await until(waitingId, (j) => j?.status === "APPROVED" && Boolean(j.taskToken)); // parked at AwaitStart
    const t0 = performance.now();
    expect(await call(stack.url, "POST", `/api/v1/admin/jobs/${runningId}/complete`, admin), 200, "complete");
    const t1 = performance.now();
    await until(waitingId, (j) => j?.status === "RUNNING");
    const t2 = performance.now();
    if (i >= 2) {
      release.push(t1 - t0);
      toRunning.push(t2 - t0);
    }
    runningId = waitingId;
  }
  raw.client.destroy();
  const msf = (x: number) => `${x.toFixed(1)} ms`;
  return [
    {
      figure: `admission: capacity released → next job RUNNING (${rounds} releases)`,
      p50: msf(median(toRunning)),
      p95: msf(quantile(toRunning, 0.95)),
      note: `measured from the admin's complete request (the release) being sent; that request alone: p50 ${msf(median(release))}`,
    },
  ];
}

type Builders = { quotaLike: (o: string) => object; jobLike: (id: string) => object; eventLike: (id: string) => object };

/** What a submission cannot avoid, replayed raw: one transaction writing quota + job + first event
 * and checking the account (exists and active: a disabled account is refused at once, the quota
 * stays exact), then the execution parking its approval token on the job (the callback pattern
 * needs it stored). */
async function UNAVOIDABLE(raw: Db, owner: string, b: Builders) {
  const id = ulid();
  const account = {
    ConditionCheck: {
      TableName: raw.table,
      Key: userKeys.user(owner),
      ConditionExpression: "attribute_exists(pk) AND active = :t",
      ExpressionAttributeValues: { ":t": true },
    },
  };
  await raw.doc.send(new TransactWriteCommand({ TransactItems: [b.quotaLike(owner), b.jobLike(id), b.eventLike(id), account] as never }));
  await raw.doc.send(
    new UpdateCommand({
      TableName: raw.table,
      Key: { pk: `BENCHJOB#${id}`, sk: "JOB" },
      UpdateExpression: "SET taskToken = :t",
      ConditionExpression: "#s = :s",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":t": `local:${id}:AwaitApproval:${ulid()}`, ":s": "PENDING" },
    }),
  );
}

// Run alone: npm run bench:path
if (import.meta.url === `file://${process.argv[1]}`) {
  const stack = await startStack(
    { DEFAULT_MONTHLY_GPU_HOURS: "1000000", AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS },
    process.env.BENCH_CPU_PROF || undefined,
  );
  try {
    const { rows } = await runRequestPath(stack);
    console.table(rows);
    console.table(await runAdmission(stack));
  } finally {
    closeHttp();
    await stack.stop();
  }
}
