/** Benchmark: job submissions through the Hono app against a real (in-memory) DynamoDB Local.
 * Reports latency median/p95 and throughput for many users submitting at once, and for one user
 * hammering one quota item (the contended case). Run: npm run bench:submissions */
import { performance } from "node:perf_hooks";
import { ensureAdmin } from "../packages/core/src/auth/service";
import { generateSigningKey } from "../packages/core/src/auth/signing-key";
import { loadConfig } from "../packages/core/src/config/config";
import { type Core, createCore } from "../packages/core/src/core";
import { ensureTable } from "../packages/core/src/db/table";
import { createApp } from "../packages/functions/src/api/app";
import { startDynamoDbLocal } from "../packages/local/src/dynamodb-local";
import { createLocalWorkflowEngine } from "../packages/local/src/workflow-engine";
import "../packages/local/src/polyfills";
import { median, ms, quantile } from "./stats";

const USERS = Number(process.env.BENCH_USERS ?? 50);
const JOBS_PER_USER = Number(process.env.BENCH_JOBS_PER_USER ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const dynamo = await startDynamoDbLocal();
try {
  // The same wiring as `npm start`: each accepted job starts its execution on the local engine,
  // which runs ApplyApprovalPolicy and parks AwaitApproval's token (more DynamoDB writes).
  let core: Core | undefined;
  const workflow = createLocalWorkflowEngine({ core: () => core! });
  core = createCore(
    loadConfig({
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      TABLE_NAME: "bench",
      JWT_SIGNING_KEY: JSON.stringify(generateSigningKey("bench")),
      DEFAULT_MONTHLY_GPU_HOURS: String(JOBS_PER_USER * 10),
      SIMULATION_SECONDS_PER_HOUR: "0",
    }),
    { workflow },
  );
  await ensureTable(core.db.client, core.db.table);
  const app = createApp(core);
  const json = (body: unknown, token?: string) => ({
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

  const tokens: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench-${i}@example.com`;
    await ensureAdmin(core, { email, password: "bench password 1" });
    const res = await app.request("/api/v1/auth/login", json({ email, password: "bench password 1" }));
    tokens.push(((await res.json()) as { accessToken: string }).accessToken);
  }
  const job = { name: "bench", image: "img:1", command: "run", gpuType: "A100", gpuCount: 1, estimatedHours: 1 };

  async function run(label: string, requests: string[]) {
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const token = requests[next++]!;
          const t = performance.now();
          const res = await app.request("/api/v1/jobs", json(job, token));
          await res.arrayBuffer();
          latencies.push(performance.now() - t);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${label}: ${requests.length} requests, concurrency ${CONCURRENCY} → ${(requests.length / seconds).toFixed(0)} req/s, ` +
        `median ${ms(median(latencies))}, p95 ${ms(quantile(latencies, 0.95))}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }

  // Warm-up so JIT and connection pools do not count.
  await run("warm-up", tokens.slice(0, 5));
  const spread = tokens.flatMap((t) => Array.from({ length: JOBS_PER_USER - 1 }, () => t));
  await run(`many users (${USERS} users × ${JOBS_PER_USER - 1} jobs)`, spread);
  const hot = Array.from({ length: 200 }, () => tokens[0]!);
  await run("one user, one quota item (contended; most get QUOTA_EXCEEDED once it is full)", hot);
  await workflow.shutdown();
} finally {
  await dynamo.stop();
}
