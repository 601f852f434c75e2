/** Automatic admission over HTTP (issue 9): approved jobs start by themselves when a pool has room,
 * in priority then age order, with backfill that never delays the head; a release, a completed
 * dependency or an approval triggers it; concurrent admissions never over-allocate nor start a
 * job twice; `waiting` and GET /clusters/{id}/queue give positions and expected starts. */

import { afterEach, describe, expect, it } from "vitest";
import { admissionPass } from "../packages/core/src/admission/pass";
import { capacityWaiting } from "../packages/core/src/admission/views";
import { releaseCapacityItem, takeCapacityItem } from "../packages/core/src/cluster/store";
import { transactWrite } from "../packages/core/src/db/transact";
import { getJobItem } from "../packages/core/src/job/store";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

type Ctx = Awaited<ReturnType<typeof testApp>>;
const open: Ctx[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.engine.shutdown()));
});

/** A fresh table (pools are global per GPU type), an admin, two users and helpers. */
async function world(env: Record<string, string> = {}, options: { reactions?: boolean } = {}) {
  // By default runs take an hour per simulated hour: a started job holds its pool until an admin ends it.
  const ctx = await testApp(
    { SIMULATION_SECONDS_PER_HOUR: "3600", SIMULATION_FAILURE_RATE: "0", DEFAULT_MONTHLY_GPU_HOURS: "1000", ...env },
    {},
    options,
  );
  open.push(ctx);
  const [admin, user, other] = await Promise.all([signUpAdmin(ctx.app, ctx.core), signUp(ctx.app), signUp(ctx.app)]);
  const api = lifecycleApi(ctx.app, ctx.engine);
  const createPool = async (body: Record<string, unknown> = {}) => {
    const res = await call(ctx.app, "POST", "/api/v1/admin/clusters", {
      token: admin.token,
      body: { name: "pool", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 2, totalCpu: 64, totalRamGb: 512, ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await ctx.settle();
    return res.body as { id: string; [k: string]: any };
  };
  const getPool = async (id: string) => (await call(ctx.app, "GET", `/api/v1/clusters/${id}`, { token: admin.token })).body;
  /** Submits as `token` and approves (answered APPROVED); answers the job once the approval's reactions ran (RUNNING when admitted). */
  const submitApproved = async (overrides: Record<string, unknown> = {}, token = user.token) => {
    const { id } = await api.submit(token, overrides);
    const res = await api.act(admin.token, id, "approve");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe("APPROVED");
    await ctx.settle();
    return (await api.job(token, id)) as { id: string; status: string; [k: string]: any };
  };
  /** An admin action, then its reactions. */
  const actSettled = async (jobId: string, action: "complete" | "fail" | "start") => {
    const res = await api.act(admin.token, jobId, action, action === "fail" ? { errorMessage: "x" } : undefined);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await ctx.settle();
    return res;
  };
  const queue = async (poolId: string, token: string) => {
    const res = await call(ctx.app, "GET", `/api/v1/clusters/${poolId}/queue`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items as any[];
  };
  return { ctx, admin, user, other, api, createPool, getPool, submitApproved, actSettled, queue };
}

describe("automatic admission", () => {
  it("two 2-GPU jobs on a 2-GPU pool run one after the other, the high-priority one first though submitted later", async () => {
    const w = await world();
    const pool = await w.createPool({ totalGpus: 2 });
    const busy = await w.submitApproved({ gpuCount: 2 });
    expect(busy).toMatchObject({ status: "RUNNING", clusterId: pool.id });

    const low = await w.submitApproved({ gpuCount: 2, priority: "low" });
    expect(low.status).toBe("APPROVED");
    const high = await w.submitApproved({ gpuCount: 2, priority: "high" }, w.other.token);
    expect(high.status).toBe("APPROVED");
    await w.api.untilWaiting(low.id);
    await w.api.untilWaiting(high.id);

    // Why they wait: the queue of the pool, high first; the expected start of the head is the busy job's end.
    const lowView = await w.api.job(w.user.token, low.id);
    expect(lowView.waiting).toMatchObject({ reason: "WAITING_FOR_CAPACITY", clusterId: pool.id, position: 2 });
    const highView = await w.api.job(w.other.token, high.id);
    expect(highView.waiting).toMatchObject({ reason: "WAITING_FOR_CAPACITY", clusterId: pool.id, position: 1 });
    expect(Date.parse(highView.waiting.expectedStartAt)).toBe(Date.parse(busy.startedAt) + 3600_000);
    expect(Date.parse(lowView.waiting.expectedStartAt)).toBe(Date.parse(busy.startedAt) + 2 * 3600_000);
    expect(lowView.waiting.message).toContain(pool.id);

    // The queue: one's own jobs in full, others' anonymous; admins everything.
    const mine = await w.queue(pool.id, w.user.token);
    expect(mine).toEqual([
      { position: 1, expectedStartAt: highView.waiting.expectedStartAt, gpus: 2 },
      {
        position: 2,
        expectedStartAt: lowView.waiting.expectedStartAt,
        gpus: 2,
        job: expect.objectContaining({ id: low.id, priority: "low" }),
      },
    ]);
    expect((await w.queue(pool.id, w.admin.token)).map((e) => e.job?.id)).toEqual([high.id, low.id]);

    // The busy job ends: its release admits the high-priority job, the low one keeps waiting.
    await w.actSettled(busy.id, "complete");
    expect(await w.api.job(w.other.token, high.id)).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    expect(await w.api.job(w.user.token, low.id)).toMatchObject({ status: "APPROVED", waiting: { position: 1 } });
    const events = await w.api.events(w.other.token, high.id);
    expect(events.at(-1)).toMatchObject({
      status: "RUNNING",
      actor: "system",
      reason: expect.stringContaining(`admitted to pool pool (${pool.id})`),
    });

    await w.actSettled(high.id, "complete");
    expect(await w.api.job(w.user.token, low.id)).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    expect(await w.queue(pool.id, w.admin.token)).toEqual([]);
    // The executions parked in AwaitStart were resumed into the simulated run.
    await w.api.untilInState(low.id, "SimulateGpuRuntime");
  });

  it("backfills a short 1-GPU job beside a waiting 2-GPU head only when it cannot delay it", async () => {
    const w = await world();
    const pool = await w.createPool({ totalGpus: 2 });
    const running = await w.submitApproved({ gpuCount: 1, estimatedHours: 2 });
    expect(running.status).toBe("RUNNING");
    // The head waits for the running job's end (in 2 hours); one GPU stays free meanwhile.
    const head = await w.submitApproved({ gpuCount: 2, estimatedHours: 1 });
    expect(head.status).toBe("APPROVED");
    // A 3-hour job would still hold the GPU when the head could start: it waits behind it.
    const long = await w.submitApproved({ gpuCount: 1, estimatedHours: 3 });
    expect(long.status).toBe("APPROVED");
    // A 1-hour job ends before the head could start: it runs now.
    const short = await w.submitApproved({ gpuCount: 1, estimatedHours: 1 });
    expect(short).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    const events = await w.api.events(w.user.token, short.id);
    expect(events.at(-1)).toMatchObject({ status: "RUNNING", actor: "system", reason: expect.stringContaining("backfilled") });

    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 0 });
    expect((await w.queue(pool.id, w.admin.token)).map((e) => e.job.id)).toEqual([head.id, long.id]);
    // The head's expected start is unchanged by the backfill: the running job's end.
    const headView = await w.api.job(w.user.token, head.id);
    expect(Date.parse(headView.waiting.expectedStartAt)).toBe(Date.parse(running.startedAt) + 2 * 3600_000);

    // The short job ends: one GPU is free, but the head needs two and the long job would delay it.
    await w.actSettled(short.id, "complete");
    expect((await w.api.job(w.user.token, long.id)).status).toBe("APPROVED");
    expect((await w.api.job(w.user.token, head.id)).status).toBe("APPROVED");
    // The running job ends: the head starts, then the long one waits for it.
    await w.actSettled(running.id, "complete");
    expect((await w.api.job(w.user.token, head.id)).status).toBe("RUNNING");
    expect((await w.api.job(w.user.token, long.id)).status).toBe("APPROVED");
  });

  it("100 concurrent admissions never over-allocate nor start a job twice", async () => {
    // A hundred admissions at once on a 2-core machine: give DynamoDB Local time to accept them all.
    // No reactions: only the hundred passes below admit.
    const w = await world({ AWS_CONNECT_TIMEOUT_MS: "10000", AWS_REQUEST_TIMEOUT_MS: "10000" }, { reactions: false });
    // Approved while the pools are full (held outside any job), then freed without a trigger.
    const small = await w.createPool({ provider: "onprem", totalGpus: 3 });
    const big = await w.createPool({ provider: "aws", totalGpus: 4 });
    const hold = (pool: { id: string }, gpus: number) =>
      [w.ctx.core.db, pool.id, { gpus, cpu: 0, ramGb: 0 }, new Date().toISOString()] as const;
    await transactWrite(w.ctx.core.db, [takeCapacityItem(...hold(small, 3)), takeCapacityItem(...hold(big, 4))]);
    const jobs = await Promise.all(Array.from({ length: 10 }, () => w.submitApproved({ gpuCount: 1 })));
    expect(jobs.every((j) => j.status === "APPROVED")).toBe(true);
    await transactWrite(w.ctx.core.db, [releaseCapacityItem(...hold(small, 3)), releaseCapacityItem(...hold(big, 4))]);

    const started = await Promise.all(Array.from({ length: 100 }, () => admissionPass(w.ctx.core, "A100")));
    expect(started.flat().sort()).toEqual([...new Set(started.flat())].sort());
    expect(started.flat()).toHaveLength(7);

    const items = await readTable(w.ctx.core.db);
    const runningJobs = items.filter((i) => i.type === "Job" && i.status === "RUNNING");
    expect(runningJobs).toHaveLength(7);
    expect(runningJobs.filter((j) => j.clusterId === small.id)).toHaveLength(3);
    expect(runningJobs.filter((j) => j.clusterId === big.id)).toHaveLength(4);
    expect(await w.getPool(small.id)).toMatchObject({ availableGpus: 0 });
    expect(await w.getPool(big.id)).toMatchObject({ availableGpus: 0 });
    for (const job of runningJobs) {
      expect(items.filter((i) => i.type === "JobEvent" && i.jobId === job.id && i.status === "RUNNING")).toHaveLength(1);
    }
    expect(items.filter((i) => i.type === "Job" && i.status === "APPROVED")).toHaveLength(3);
  }, 60_000);

  it("admits jobs approved before any pool existed as soon as a pool for them is created", async () => {
    const w = await world();
    const job = await w.submitApproved({ gpuCount: 2 });
    expect(job.status).toBe("APPROVED");
    // The pool is answered as created; the reaction to it admits the job.
    const pool = await w.createPool({ totalGpus: 2 });
    expect(pool).toMatchObject({ availableGpus: 2 });
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 0 });
    expect(await readTable(w.ctx.core.db)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "Job", id: job.id, status: "RUNNING", clusterId: pool.id })]),
    );
  });

  it("admits a dependent by itself when its dependency completes", async () => {
    const w = await world();
    const pool = await w.createPool({ totalGpus: 4 });
    const first = await w.submitApproved({ gpuCount: 1 });
    expect(first.status).toBe("RUNNING");
    const next = await w.submitApproved({ gpuCount: 1, dependsOn: [first.id] });
    expect(next).toMatchObject({ status: "APPROVED", waiting: { reason: "WAITING_FOR_DEPENDENCIES" } });
    await w.api.untilWaiting(next.id);

    await w.actSettled(first.id, "complete");
    expect(await w.api.job(w.user.token, next.id)).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    await w.api.untilInState(next.id, "SimulateGpuRuntime");
  });

  it("admits a job the auto-approve policy approved, its execution going straight on to the run", async () => {
    const w = await world({ AUTO_APPROVE_MAX_GPU_HOURS: "10" });
    const pool = await w.createPool({ totalGpus: 2 });
    const { id } = await w.api.submit(w.user.token, { gpuCount: 2 });
    const job = await w.api.untilStatus(w.user.token, id, "RUNNING");
    expect(job).toMatchObject({ clusterId: pool.id, approvedBy: "system" });
    await w.api.untilInState(id, "SimulateGpuRuntime");
    // A second one waits for the pool, parked in AwaitStart.
    const { id: next } = await w.api.submit(w.user.token, { gpuCount: 2 });
    await w.api.untilInState(next, "AwaitStart");
    await w.api.untilWaiting(next);
    expect((await w.api.job(w.user.token, next)).waiting).toMatchObject({ reason: "WAITING_FOR_CAPACITY", position: 1 });
    expect((await w.api.act(w.admin.token, id, "complete")).status).toBe(200);
    await w.api.untilStatus(w.user.token, next, "RUNNING");
    await w.api.untilInState(next, "SimulateGpuRuntime");
  });

  it("a job admitted between its approval and the read that answers for it is shown with its actual start", async () => {
    const w = await world({ AUTO_APPROVE_MAX_GPU_HOURS: "10" });
    const pool = await w.createPool({ totalGpus: 2 });
    const { id } = await w.api.submit(w.user.token, { gpuCount: 1 });
    const running = await w.api.untilStatus(w.user.token, id, "RUNNING");
    // The copy a submission's answer holds: the job as it committed it, APPROVED.
    const asCommitted = { ...(await getJobItem(w.ctx.core.db, id, true))!, status: "APPROVED" as const };
    const waiting = (await capacityWaiting(w.ctx.core, [asCommitted])).get(id);
    expect(waiting).toMatchObject({ reason: "WAITING_FOR_CAPACITY", clusterId: pool.id, position: 1, expectedStartAt: running.startedAt });
    expect(waiting!.message).toContain("started at");
  });

  it("keeps AWAITING_START (an admin's start) for a GPU type without pools", async () => {
    const w = await world();
    await w.createPool({ gpuType: "H100", totalGpus: 8 });
    const job = await w.submitApproved({ gpuType: "A100" });
    expect(job).toMatchObject({ status: "APPROVED", waiting: { reason: "AWAITING_START" } });
  });

  it("expected starts of queued jobs are within 10 % of the actual starts when runs match their estimates", async () => {
    // Three seconds per simulated hour; runs finish by themselves and always succeed.
    const w = await world({ SIMULATION_SECONDS_PER_HOUR: "3" });
    const pool = await w.createPool({ totalGpus: 1 });
    const first = await w.submitApproved({ gpuCount: 1, estimatedHours: 3 });
    expect(first.status).toBe("RUNNING");
    const second = await w.submitApproved({ gpuCount: 1, estimatedHours: 2 });
    const third = await w.submitApproved({ gpuCount: 1, estimatedHours: 2 });
    const asked = Date.now();
    const expected = await Promise.all(
      [second, third].map(async (j) => {
        const view = await w.api.job(w.user.token, j.id);
        expect(view.waiting).toMatchObject({ reason: "WAITING_FOR_CAPACITY", clusterId: pool.id });
        return Date.parse(view.waiting.expectedStartAt);
      }),
    );
    expect(expected[1]! - expected[0]!).toBe(6000);

    for (const [i, j] of [second, third].entries()) {
      const started = await w.api.untilStatus(w.user.token, j.id, "RUNNING", 40_000);
      const actual = Date.parse(started.startedAt);
      const wait = expected[i]! - asked;
      expect(Math.abs(actual - expected[i]!), `job ${i + 2}: expected ${expected[i]}, started ${actual}`).toBeLessThanOrEqual(0.1 * wait);
    }
    await w.api.untilStatus(w.user.token, third.id, "COMPLETED", 40_000);
  }, 90_000);
});
