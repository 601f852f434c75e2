/** The pool-growth probe of issue 18, over HTTP against `npm start`: `N` one-GPU jobs wait in a
 * 1-GPU pool (submitted and approved through the API, a few at a time), then an admin grows the
 * pool to fit them all. It measures the submissions while the queue fills, reading one waiting job
 * beside reading the running one (interleaved, so both see the same queue), how long the PATCH
 * takes to answer (admission is its reaction, not part of the request), and how fast the jobs are
 * then admitted (the RUN# entries of the type's queue counted on the raw table every few ms).
 * Run alone: npm run bench:growth   (BENCH_GROWTH_JOBS, default 1000) */
import { performance } from "node:perf_hooks";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { queueKeys } from "../packages/core/src/admission/keys";
import { loadConfig } from "../packages/core/src/config/config";
import { createDb } from "../packages/core/src/db/client";
import { call, closeHttp, expect } from "./http";
import { BENCH_TIMEOUT_MS } from "./request-path";
import { type BenchStack, startStack } from "./stack";
import { median, ms, quantile } from "./stats";

const GPU_TYPE = "L4";
const CONCURRENCY = 8;
const READS = 50;

/** Runs `fn` over 0..n-1, `width` at a time. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < n; i = next++) await fn(i);
    }),
  );
}

export async function runPoolGrowth(stack: BenchStack, jobs = Number(process.env.BENCH_GROWTH_JOBS ?? 1000)) {
  const config = loadConfig({
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    TABLE_NAME: stack.table,
    JWT_SIGNING_KEY: stack.signingKey,
    AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS,
  });
  const raw = createDb({ tableName: stack.table, region: config.region, endpoint: stack.dynamoEndpoint, outbound: config.outbound });
  const running = async () => {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await raw.doc.send(
        new QueryCommand({
          TableName: raw.table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :run)",
          ExpressionAttributeValues: { ":pk": queueKeys.partition(GPU_TYPE).pk, ":run": queueKeys.runningPrefix },
          Select: "COUNT",
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  };
  try {
    const admin = expect(await call(stack.url, "POST", "/api/v1/auth/login", undefined, stack.admin), 200, "admin login")
      .accessToken as string;
    const email = `growth-${Date.now()}@example.com`;
    const password = "bench password 1";
    expect(await call(stack.url, "POST", "/api/v1/auth/register", undefined, { email, password, fullName: "Growth" }), 201, "register");
    const user = expect(await call(stack.url, "POST", "/api/v1/auth/login", undefined, { email, password }), 200, "login")
      .accessToken as string;
    const spec = {
      name: "growth",
      provider: "aws",
      region: "us-east-1",
      gpuType: GPU_TYPE,
      totalGpus: 1,
      totalCpu: 8 * (jobs + 1),
      totalRamGb: 64 * (jobs + 1),
    };
    const created = expect(await call(stack.url, "POST", "/api/v1/admin/clusters", admin, spec), 201, "pool");

    // Fill: the first job takes the GPU, the rest wait. Each is approved as soon as its execution parks it.
    const job = { name: "growth", image: "img:1", command: "run", gpuType: GPU_TYPE, gpuCount: 1, estimatedHours: 100 };
    const ids: string[] = [];
    const submitMs: number[] = [];
    let refused = 0;
    await pool(jobs + 1, CONCURRENCY, async (i) => {
      const t0 = performance.now();
      const reply = await call(stack.url, "POST", "/api/v1/jobs", user, { ...job, name: `growth-${i}` });
      submitMs.push(performance.now() - t0);
      if (reply.status !== 201) {
        refused++;
        return;
      }
      ids.push(reply.body.id);
      for (let attempt = 0; ; attempt++) {
        const approved = await call(stack.url, "POST", `/api/v1/admin/jobs/${reply.body.id}/approve`, admin);
        if (approved.status === 200) return;
        if (approved.status !== 409 || attempt > 200) throw new Error(`approve: ${approved.status} ${JSON.stringify(approved.body)}`);
        await new Promise((r) => setTimeout(r, 5)); // not yet parked at AwaitApproval
      }
    });
    // Every approved job is queued once the one RUNNING and the rest APPROVED.
    const statusOf = async (id: string) => expect(await call(stack.url, "GET", `/api/v1/jobs/${id}`, user), 200, "read").status as string;
    let runningId: string | undefined;
    for (let tries = 0; !runningId && tries < 500; tries++) {
      if ((await running()) === 1) {
        for (const id of ids)
          if ((await statusOf(id)) === "RUNNING") {
            runningId = id;
            break;
          }
      } else await new Promise((r) => setTimeout(r, 20));
    }
    if (!runningId) throw new Error("no job started in the 1-GPU pool");
    const waitingId = ids.find((id) => id !== runningId)!;

    // Reading a waiting job (its why-waiting view) beside reading the running one.
    const readWaiting: number[] = [];
    const readRunning: number[] = [];
    for (let i = 0; i < READS; i++) {
      for (const [id, into] of [
        [waitingId, readWaiting],
        [runningId, readRunning],
      ] as const) {
        const t0 = performance.now();
        expect(await call(stack.url, "GET", `/api/v1/jobs/${id}`, user), 200, "read");
        into.push(performance.now() - t0);
      }
    }

    // Grow the pool to fit every job; admission follows as the pool change's reaction.
    const t0 = performance.now();
    expect(await call(stack.url, "PATCH", `/api/v1/clusters/${created.id}`, admin, { totalGpus: ids.length }), 200, "grow");
    const patchMs = performance.now() - t0;
    let now = 1;
    let firstMs = NaN;
    const deadline = t0 + 120_000;
    while (now < ids.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      now = await running();
      if (now > 1 && Number.isNaN(firstMs)) firstMs = performance.now() - t0;
    }
    const allMs = performance.now() - t0;
    const admitted = now - 1;
    const rate = admitted / (allMs / 1000);
    return [
      {
        figure: `filling the queue: POST /jobs (${jobs + 1} submissions, ${CONCURRENCY} at a time, each then approved)`,
        value: `p50 ${ms(median(submitMs))}, p99 ${ms(quantile(submitMs, 0.99))}; ${refused} refused`,
        goal: "0 refused",
      },
      {
        figure: `reading a job with ${ids.length - 1} waiting: waiting ÷ running (p50)`,
        value: `${(median(readWaiting) / median(readRunning)).toFixed(2)} (${ms(median(readWaiting))} vs ${ms(median(readRunning))})`,
        goal: "≤ 2",
      },
      { figure: "PATCH growing the pool to fit them all: answered in", value: ms(patchMs), goal: "≤ 200 ms" },
      {
        figure: `admitting the ${ids.length - 1} waiting jobs after the PATCH`,
        value: `${admitted} in ${ms(allMs)} (first after ${ms(firstMs)}): ${rate.toFixed(0)} admissions/s`,
        goal: "≥ 100 admissions/s",
      },
    ];
  } finally {
    raw.client.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stack = await startStack({ DEFAULT_MONTHLY_GPU_HOURS: "1000000", AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS });
  try {
    console.table(await runPoolGrowth(stack));
  } finally {
    closeHttp();
    await stack.stop();
  }
}
