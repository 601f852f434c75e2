/** Storage costs (issue 11), in-process against an on-disk DynamoDB Local, every call made with
 * ReturnConsumedCapacity: capacity per operation next to the data model's minimum, the scheduler's
 * cost with many jobs waiting in one pool, and the items a daily rollup reads.
 * Run: npm run bench:storage   (BENCH_WAITING_SMALL=1000, BENCH_WAITING_LARGE=10000, BENCH_ROLLUP_N=300) */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { queueKeys } from "../packages/core/src/admission/keys";
import { admissionPass } from "../packages/core/src/admission/pass";
import { accountActor } from "../packages/core/src/auth/access";
import { ensureAdmin, register } from "../packages/core/src/auth/service";
import type { Actor } from "../packages/core/src/auth/token";
import type { GpuType } from "../packages/core/src/catalog/catalog";
import { createCluster } from "../packages/core/src/cluster/service";
import { takeCapacityItem } from "../packages/core/src/cluster/store";
import { loadConfig } from "../packages/core/src/config/config";
import { type Core, createCore } from "../packages/core/src/core";
import { costKeys } from "../packages/core/src/cost/keys";
import { rollupDay } from "../packages/core/src/cost/rollup";
import { ensureTable } from "../packages/core/src/db/table";
import { transactWrite } from "../packages/core/src/db/transact";
import { approveJob, cancelJob, completeJob, rejectJob, startJob } from "../packages/core/src/job/actions";
import { getJob, listMyJobs } from "../packages/core/src/job/queries";
import { jobItem } from "../packages/core/src/job/store";
import { submitJob } from "../packages/core/src/job/submit";
import { resetQuotas } from "../packages/core/src/quota/reset";
import { getUserItem } from "../packages/core/src/user/store";
import { newId } from "../packages/core/src/util/id";
import type { WorkflowPort } from "../packages/core/src/workflow/port";
import { startDynamoDbLocal } from "../packages/local/src/dynamodb-local";
import "../packages/local/src/polyfills";

const WAITING_SMALL = Number(process.env.BENCH_WAITING_SMALL ?? 1000);
const WAITING_LARGE = Number(process.env.BENCH_WAITING_LARGE ?? 10000);
const RUNNING_LARGE = Number(process.env.BENCH_RUNNING_LARGE ?? 500);
const ROLLUP_N = Number(process.env.BENCH_ROLLUP_N ?? 300);

/** What the calls of one operation consumed and read. */
interface Usage {
  rcu: number;
  wcu: number;
  calls: number;
  itemsRead: number;
}
const zero = (): Usage => ({ rcu: 0, wcu: 0, calls: 0, itemsRead: 0 });

const READS = new Set(["GetItemCommand", "QueryCommand", "ScanCommand", "BatchGetItemCommand", "TransactGetItemsCommand"]);
const WITH_CAPACITY = new Set([
  ...READS,
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
]);

/** Adds ReturnConsumedCapacity to every call of `core`'s client and adds what it reports to `meter.current`. */
function meterCapacity(core: Core) {
  const meter = { current: zero() };
  core.db.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "";
      if (WITH_CAPACITY.has(name)) (args.input as Record<string, unknown>).ReturnConsumedCapacity = "INDEXES";
      const out = await next(args);
      const o = out.output as Record<string, any>;
      const list = [o.ConsumedCapacity].flat().filter(Boolean) as {
        CapacityUnits?: number;
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
      }[];
      for (const c of list) {
        const units = c.CapacityUnits ?? 0;
        if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
          meter.current.rcu += c.ReadCapacityUnits ?? 0;
          meter.current.wcu += c.WriteCapacityUnits ?? 0;
        } else if (READS.has(name)) meter.current.rcu += units;
        else meter.current.wcu += units;
      }
      meter.current.calls++;
      if (name === "GetItemCommand") meter.current.itemsRead += o.Item ? 1 : 0;
      if (name === "QueryCommand" || name === "ScanCommand") meter.current.itemsRead += o.ScannedCount ?? o.Count ?? 0;
      if (name === "BatchGetItemCommand")
        meter.current.itemsRead += Object.values(o.Responses ?? {}).reduce((n: number, r) => n + (r as unknown[]).length, 0);
      return out;
    },
    { step: "initialize", name: "benchCapacityMeter" },
  );
  return async <T>(f: () => Promise<T>): Promise<[Usage, T, number]> => {
    meter.current = zero();
    const t = performance.now();
    const value = await f();
    const ms = performance.now() - t;
    return [meter.current, value, ms];
  };
}

const noWorkflowCalls: WorkflowPort = {
  startJob: async () => undefined,
  sendTaskSuccess: async () => undefined,
  sendTaskFailure: async () => undefined,
  stop: async () => undefined,
  describe: async () => undefined,
};

async function batchPut(core: Core, items: Record<string, unknown>[]) {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < chunks.length) {
        let requests = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
        while (requests.length) {
          const out = await core.db.doc.send(new BatchWriteCommand({ RequestItems: { [core.db.table]: requests } }));
          requests = (out.UnprocessedItems?.[core.db.table] ?? []) as typeof requests;
        }
      }
    }),
  );
}

export interface StorageResults {
  capacity: Record<string, string>[];
  scheduler: Record<string, string>[];
  rollup: Record<string, string>[];
}

export async function runStorage(): Promise<StorageResults> {
  const dataDir = mkdtempSync(join(tmpdir(), "gpuaas-bench-storage-"));
  const dynamo = await startDynamoDbLocal({ dataDir });
  try {
    const core = createCore(
      loadConfig({
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        TABLE_NAME: "bench",
        DEFAULT_MONTHLY_GPU_HOURS: "1000000",
        SIMULATION_SECONDS_PER_HOUR: "3600",
        LOG_LEVEL: "ERROR",
      }),
      { workflow: noWorkflowCalls },
    );
    await ensureTable(core.db.client, core.db.table);
    const measure = meterCapacity(core);
    const { user: adminUser } = await ensureAdmin(core, { email: "admin@example.com", password: "bench admin password" });
    const adminActor = accountActor(await getUserItem(core.db, adminUser!.id), { userId: adminUser!.id, role: "admin" });
    const user = await register(core, { email: "user@example.com", password: "bench password 1", fullName: "Bench" });
    const caller: Actor = { userId: user.id, role: "user" }; // token verified only, as POST /jobs and GET /jobs/{id} now run
    const JOB = { name: "bench", image: "img:1", command: "run", gpuType: "A100", gpuCount: 1, estimatedHours: 1 };
    for (let i = 0; i < 25; i++) await submitJob(core, caller, JOB); // a full first page for the list

    const rows: Record<string, string>[] = [];
    const row = (operation: string, u: Usage, minimum: string, why: string) =>
      rows.push({
        operation,
        calls: String(u.calls),
        RCU: u.rcu.toFixed(1),
        WCU: u.wcu.toFixed(1),
        "minimum the data model allows": minimum,
        "above it, and why": why,
      });

    const [sub, submitted] = await measure(() => submitJob(core, caller, JOB));
    row(
      "submit (POST /jobs)",
      sub,
      "one transaction: quota + job (3 index entries) + event",
      "+ a ConditionCheck of the account and the user's submission limits (open jobs, rate: one item) in the same transaction (disabled refused at once, atomically); the pools Query runs at most once a second per GPU type (cached list), so not here",
    );
    const id = submitted.job.id;
    const [get] = await measure(() => getJob(core, caller, id));
    row("get (GET /jobs/{id})", get, "0.5 RCU (the job) + 0.5 RCU (the account)", "none: one BatchGetItem of both");
    const account = accountActor(await getUserItem(core.db, user.id), { userId: user.id, role: "user" });
    const [list] = await measure(() => listMyJobs(core, account, { limit: 20 }));
    row(
      "list page of 20 (GET /jobs)",
      list,
      "20 × ~0.6 KB in one eventually consistent Query",
      "none in the Query (+ the account GetItem of authentication, 0.5 RCU, not in this row)",
    );
    const [approve] = await measure(() => approveJob(core, adminActor, id));
    row(
      "approve (PENDING → APPROVED)",
      approve,
      "transaction: job (status entry moves) + event + queue entry",
      "+ a consistent read of the job (the transition is conditional on what it read); admission is a reaction, not in the request",
    );
    const [start] = await measure(() => startJob(core, adminActor, id));
    row(
      "start (APPROVED → RUNNING, no pools)",
      start,
      "transaction: job + event + queue entry removed",
      "+ the consistent read; the pools Query of the placement",
    );
    const [complete] = await measure(() => completeJob(core, adminActor, id));
    row(
      "complete (RUNNING → COMPLETED)",
      complete,
      "transaction: job + event + quota settled + usage day (1 index entry)",
      "+ the consistent read",
    );
    const other = (await submitJob(core, caller, JOB)).job.id;
    const [cancel] = await measure(() => cancelJob(core, account, other));
    row("cancel (PENDING → CANCELLED)", cancel, "transaction: job + event + quota released", "+ the consistent read");
    const third = (await submitJob(core, caller, JOB)).job.id;
    const [reject] = await measure(() => rejectJob(core, adminActor, third, { reason: "no" }));
    row("reject (PENDING → REJECTED)", reject, "as cancel", "as cancel");

    // Admission: a 1-GPU pool, one job running on it, one waiting; the release admits the next.
    await createCluster(core, adminActor, {
      name: "bench-h100",
      provider: "lambda",
      region: "us-east-1",
      gpuType: "H100",
      totalGpus: 1,
      totalCpu: 8,
      totalRamGb: 64,
    });
    const H100 = { ...JOB, gpuType: "H100" };
    const runningId = (await submitJob(core, caller, H100)).job.id;
    await approveJob(core, adminActor, runningId);
    await admissionPass(core, "H100");
    const waitingId = (await submitJob(core, caller, H100)).job.id;
    await approveJob(core, adminActor, waitingId);
    await admissionPass(core, "H100");
    const [release] = await measure(async () => {
      await completeJob(core, adminActor, runningId);
      return admissionPass(core, "H100"); // the reaction to the release
    });
    row(
      "release + admission pass (complete on a pool; the pass the release's reaction runs starts the next)",
      release,
      "end: job + event + quota + usage day + pool release + RUN# removed; start: job + event + pool take + WAIT# → RUN#",
      "+ the pass's reads: pools (list, consistent Get), RUN# Query, WAIT# window Query; the start's consistent job read; the plan Put",
    );
    await completeJob(core, adminActor, waitingId);

    // Monthly reset per user: open next month for U users.
    for (let i = 0; i < 20; i++) await register(core, { email: `r${i}@example.com`, password: "bench password 1", fullName: "R" });
    const next = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1));
    const period = `${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, "0")}`;
    const [reset, resetResult] = await measure(() => resetQuotas({ ...core, now: () => next }, { period }));
    const users = 23;
    row(
      `quota reset, per user (${users} users, ${(resetResult as { jobsCarried?: number }).jobsCarried ?? 0} open jobs carried)`,
      { rcu: reset.rcu / users, wcu: reset.wcu / users, calls: Math.round(reset.calls / users), itemsRead: reset.itemsRead / users },
      "a Put of the new month per user; a 3-item transaction per open job carried",
      "+ user pages, the 48 open-job status Queries and run-record updates, spread over all users",
    );

    // Scheduler cost: per type a full pool of R GPUs (R RUN# entries) and W waiting jobs (WAIT# entries and jobs).
    const scheduler: Record<string, string>[] = [];
    const fill = async (gpuType: GpuType, provider: "gcp" | "aws", waiting: number, running: number) => {
      const pool = await createCluster(core, adminActor, {
        name: `bench-${gpuType}`,
        provider,
        region: "us-east-1",
        gpuType,
        totalGpus: running,
        totalCpu: 100_000,
        totalRamGb: 1_000_000,
      });
      const at = new Date().toISOString();
      await transactWrite(core.db, [takeCapacityItem(core.db, pool.id, { gpus: running, cpu: 0, ramGb: 0 }, at)]);
      const items: Record<string, unknown>[] = [];
      for (let i = 0; i < running; i++) {
        const jobId = newId();
        items.push({
          ...queueKeys.running(gpuType, jobId),
          type: "QueueEntry",
          jobId,
          gpuType,
          clusterId: pool.id,
          gpus: 1,
          cpu: 0,
          ramGb: 0,
          startedAt: at,
          estimatedHours: 1 + (i % 700),
        });
      }
      for (let i = 0; i < waiting; i++) {
        const job = jobItem({
          id: newId(),
          ownerId: user.id,
          name: "w",
          image: "img:1",
          command: "run",
          sensitive: false,
          gpuType,
          gpuCount: 1 + (i % 4),
          estimatedHours: 1 + (i % 24),
          priority: (["high", "medium", "low"] as const)[i % 3]!,
          dependsOn: [],
          status: "APPROVED",
          reservedMilli: 1000,
          quotaPeriod: at.slice(0, 7),
          estimatedCostMicros: 1,
          pricePerGpuHourMicros: 1,
          createdAt: at,
          updatedAt: at,
        });
        items.push(job as unknown as Record<string, unknown>, {
          ...queueKeys.waiting(gpuType, job),
          type: "QueueEntry",
          jobId: job.id,
          gpuType,
          ownerId: user.id,
          priority: job.priority,
          gpus: job.gpuCount,
          cpu: 0,
          ramGb: 0,
          estimatedHours: job.estimatedHours,
        });
      }
      await batchPut(core, items);
    };
    const cases = [
      ["L4", "gcp", WAITING_SMALL, 50],
      ["T4", "aws", WAITING_LARGE, RUNNING_LARGE],
    ] as const;
    for (const [gpuType, provider, waiting, running] of cases) await fill(gpuType, provider, waiting, running);
    for (const [gpuType, , waiting, running] of cases) {
      const runs: [Usage, number][] = [];
      for (let i = 0; i < 5; i++) {
        const [u, started, ms] = await measure(() => admissionPass(core, gpuType));
        if (started.length) throw new Error("the pool was meant to be full");
        runs.push([u, ms]);
      }
      const [u] = runs[0]!;
      const ms = runs.map(([, t]) => t).sort((a, b) => a - b)[2]!;
      scheduler.push({
        case: `${waiting} waiting and ${running} running in one ${gpuType} pool (table holds ${WAITING_SMALL + WAITING_LARGE} waiting jobs in all)`,
        "admission pass (median of 5)": `${ms.toFixed(0)} ms`,
        calls: String(u.calls),
        "items read": String(u.itemsRead),
        "read units": u.rcu.toFixed(1),
        "write units (the plan)": u.wcu.toFixed(1),
      });
    }

    // Rollup: N jobs' usage on one day, 10 N on the days around it.
    const day = "2026-06-15";
    const usage = (d: string) => {
      const jobId = newId();
      return {
        ...costKeys.usageDay(d, jobId),
        ...costKeys.usageByOwner(user.id, d, jobId),
        type: "UsageDay",
        jobId,
        ownerId: user.id,
        provider: "aws",
        gpuType: "A100",
        gpuCount: 1,
        day: d,
        gpuMilli: 1000,
        costMicros: 4_100_000,
        startedAt: `${d}T01:00:00.000Z`,
        finishedAt: `${d}T02:00:00.000Z`,
      };
    };
    await batchPut(core, [
      ...Array.from({ length: ROLLUP_N }, () => usage(day)),
      ...Array.from({ length: 5 * ROLLUP_N }, () => usage("2026-06-14")),
      ...Array.from({ length: 5 * ROLLUP_N }, () => usage("2026-06-16")),
    ]);
    const [ru, result, rms] = await measure(() => rollupDay(core, day));
    const running = result.runningJobsRead;
    const rollup = [
      {
        case: `${ROLLUP_N} jobs on ${day}, ${10 * ROLLUP_N} on the days around it`,
        "usage items read": String(result.usageItemsRead),
        "running jobs read": String(running),
        "items read ÷ N": ((ru.itemsRead - running) / ROLLUP_N).toFixed(2),
        "RCU per job": (ru.rcu / ROLLUP_N).toFixed(3),
        "WCU per job": (ru.wcu / ROLLUP_N).toFixed(3),
        time: `${rms.toFixed(0)} ms`,
      },
    ];
    return { capacity: rows, scheduler, rollup };
  } finally {
    await dynamo.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runStorage();
  console.table(r.capacity);
  console.table(r.scheduler);
  console.table(r.rollup);
}
