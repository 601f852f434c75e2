/** The admission planner in simulated time: strict priority-then-age order, expected starts, and
 * backfill's promise — over random workloads (fast-check), no job starts later with backfill than
 * it would without, and the pool is used at least as well (strictly better on some). */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admissionOrder, type Demand, planPool, type RunningJob, type WaitingJob } from "../packages/core/src/admission/plan";
import type { Priority } from "../packages/core/src/job/job";

const HOUR = 3_600_000;
const id = (n: number) => `01J${String(n).padStart(23, "0")}`;
const job = (n: number, over: Partial<WaitingJob> = {}): WaitingJob => ({
  id: id(n),
  priority: "medium",
  gpus: 1,
  cpu: 1,
  ramGb: 1,
  runtimeMs: HOUR,
  ...over,
});
const POOL: Demand = { gpus: 2, cpu: 64, ramGb: 512 };

describe("admission order and expected starts", () => {
  it("orders by priority (high, medium, low), then age", () => {
    const jobs = [job(3, { priority: "low" }), job(2, { priority: "high" }), job(1), job(4, { priority: "high" })];
    expect(admissionOrder(jobs).map((j) => j.id)).toEqual([id(2), id(4), id(1), id(3)]);
  });

  it("two 2-GPU jobs on a 2-GPU pool: the high-priority one first even when submitted later, the other when it ends", () => {
    const plan = planPool(POOL, [], [job(1, { gpus: 2 }), job(2, { gpus: 2, priority: "high" })], 0);
    expect(plan.admit).toEqual([id(2)]);
    expect(plan.queue).toEqual([{ id: id(1), position: 1, expectedStartMs: HOUR }]);
  });

  it("backfills a short 1-GPU job beside a waiting 2-GPU head only when it ends before the head can start", () => {
    const running: RunningJob[] = [{ id: id(0), gpus: 1, cpu: 1, ramGb: 1, expectedEndMs: 2 * HOUR }];
    const head = job(1, { gpus: 2, priority: "high" });
    const short = planPool(POOL, running, [head, job(2, { runtimeMs: HOUR })], 0);
    expect(short).toMatchObject({ admit: [id(2)], backfilled: [id(2)] });
    expect(short.queue).toEqual([{ id: id(1), position: 1, expectedStartMs: 2 * HOUR }]);

    // Three hours would hold a GPU past the head's start at 2 h: it waits behind the head.
    const long = planPool(POOL, running, [head, job(2, { runtimeMs: 3 * HOUR })], 0);
    expect(long.admit).toEqual([]);
    expect(long.queue.map((q) => [q.id, q.expectedStartMs])).toEqual([
      [id(1), 2 * HOUR],
      [id(2), 3 * HOUR],
    ]);
    // Without backfill the short one waits too.
    expect(planPool(POOL, running, [head, job(2)], 0, { backfill: false }).admit).toEqual([]);
  });

  it("checks GPUs, CPU and RAM, and a job too big for the pool never holds the queue up", () => {
    const plan = planPool({ gpus: 8, cpu: 16, ramGb: 64 }, [], [job(1, { gpus: 9 }), job(2, { cpu: 16 }), job(3, { ramGb: 1 })], 0);
    expect(plan.admit).toEqual([id(2)]);
    expect(plan.queue).toEqual([
      { id: id(1), position: 1, expectedStartMs: Number.POSITIVE_INFINITY },
      { id: id(3), position: 2, expectedStartMs: HOUR },
    ]);
  });
});

// ---- simulated time ---------------------------------------------------------------------------

/** Runs `jobs` (all waiting at time 0, each running exactly its estimate) through the planner. */
function simulate(total: Demand, jobs: WaitingJob[], backfill: boolean) {
  const starts = new Map<string, number>();
  const predicted = new Map<string, number>();
  let running: RunningJob[] = [];
  let waiting = [...jobs];
  let now = 0;
  for (let step = 0; waiting.length && step < 10_000; step++) {
    const plan = planPool(total, running, waiting, now, { backfill });
    if (now === 0) for (const q of plan.queue) predicted.set(q.id, q.expectedStartMs);
    for (const jobId of plan.admit) {
      const j = waiting.find((w) => w.id === jobId)!;
      starts.set(jobId, now);
      running.push({ ...j, expectedEndMs: now + j.runtimeMs });
    }
    waiting = waiting.filter((w) => !starts.has(w.id));
    if (!running.length) break;
    now = Math.min(...running.map((r) => r.expectedEndMs));
    running = running.filter((r) => r.expectedEndMs > now);
  }
  const makespan = Math.max(...jobs.map((j) => starts.get(j.id)! + j.runtimeMs));
  const gpuTime = jobs.reduce((sum, j) => sum + j.gpus * j.runtimeMs, 0);
  return { starts, predicted, makespan, utilisation: gpuTime / (total.gpus * makespan) };
}

const workload = fc
  .record({
    gpus: fc.integer({ min: 1, max: 8 }),
    jobs: fc.array(
      fc.record({
        gpus: fc.integer({ min: 1, max: 8 }),
        priority: fc.constantFrom<Priority>("low", "medium", "high"),
        hours: fc.integer({ min: 1, max: 12 }),
      }),
      { minLength: 1, maxLength: 25 },
    ),
  })
  .map(({ gpus, jobs }) => ({
    total: { gpus, cpu: 1_000, ramGb: 10_000 },
    jobs: jobs.map((j, n) => job(n + 1, { gpus: Math.min(j.gpus, gpus), priority: j.priority, runtimeMs: j.hours * HOUR })),
  }));

describe("backfill in simulated time", () => {
  it("never starts a job later than strict order would, and never lowers utilisation", () => {
    let raised = 0;
    fc.assert(
      fc.property(workload, ({ total, jobs }) => {
        const strict = simulate(total, jobs, false);
        const backfill = simulate(total, jobs, true);
        for (const j of jobs) expect(backfill.starts.get(j.id), j.id).toBeLessThanOrEqual(strict.starts.get(j.id)!);
        expect(backfill.utilisation).toBeGreaterThanOrEqual(strict.utilisation - 1e-12);
        if (backfill.utilisation > strict.utilisation + 1e-12) raised++;
      }),
      { numRuns: 400 },
    );
    // Not a promise that could hold vacuously: on random workloads backfill does fill gaps.
    expect(raised).toBeGreaterThan(20);
  });

  it("predicts, in strict order, every start exactly when runtimes match the estimates", () => {
    fc.assert(
      fc.property(workload, ({ total, jobs }) => {
        const strict = simulate(total, jobs, false);
        for (const [jobId, at] of strict.predicted) expect(strict.starts.get(jobId), jobId).toBe(at);
      }),
      { numRuns: 200 },
    );
  });

  it("with backfill, a prediction made at the start is never earlier than the actual start", () => {
    fc.assert(
      fc.property(workload, ({ total, jobs }) => {
        const backfill = simulate(total, jobs, true);
        for (const [jobId, at] of backfill.predicted) expect(backfill.starts.get(jobId)!, jobId).toBeLessThanOrEqual(at);
      }),
      { numRuns: 200 },
    );
  });
});
