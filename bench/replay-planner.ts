/** The system's own planner (packages/core/src/admission/plan.ts: priority then age, each waiting
 * job reserved in order, backfill only where it delays no reservation ahead) as an ideal schedule:
 * the same pure planPool, called at every arrival and every end with instant decisions and runs that
 * take exactly their estimate. Beside the system's schedule it separates what the policy costs from
 * what the delays of the real system (commit → stream → pass → start) cost. Also the diagnostic
 * both are measured by: GPU-hours left idle while a waiting job would have fitted in them. */
import { planPool } from "../packages/core/src/admission/plan";
import type { Schedule, SimJob } from "./replay-ideal";

/** Hours → the planner's milliseconds (any fixed scale will do: it only compares times). */
const MS = 1000;

export function simulatePlanner(jobs: readonly SimJob[], poolGpus: number): Schedule {
  const n = jobs.length;
  const start = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  const end = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  const ids = jobs.map((_, i) => String(i).padStart(8, "0"));
  const arrivals = [...jobs.keys()].sort((a, b) => jobs[a]!.arrival - jobs[b]!.arrival || a - b);
  const waiting = new Set<number>();
  const running = new Set<number>();
  let next = 0;
  const room = { gpus: poolGpus, cpu: 0, ramGb: 0 };
  while (next < n || waiting.size) {
    const nextArrival = next < n ? jobs[arrivals[next]!]!.arrival : Number.POSITIVE_INFINITY;
    let nextEnd = Number.POSITIVE_INFINITY;
    for (const i of running) nextEnd = Math.min(nextEnd, end[i]!);
    const t = Math.min(nextArrival, nextEnd);
    if (!Number.isFinite(t)) break; // jobs that can never fit the pool
    for (const i of [...running]) if (end[i]! <= t) running.delete(i);
    while (next < n && jobs[arrivals[next]!]!.arrival <= t) waiting.add(arrivals[next++]!);
    const plan = planPool(
      room,
      [...running].map((i) => ({ id: ids[i]!, gpus: jobs[i]!.gpus, cpu: 0, ramGb: 0, expectedEndMs: end[i]! * MS })),
      [...waiting].map((i) => ({
        id: ids[i]!,
        priority: jobs[i]!.priority,
        gpus: jobs[i]!.gpus,
        cpu: 0,
        ramGb: 0,
        runtimeMs: jobs[i]!.duration * MS,
      })),
      t * MS,
    );
    for (const id of plan.admit) {
      const i = Number(id);
      waiting.delete(i);
      running.add(i);
      start[i] = t;
      end[i] = t + jobs[i]!.duration;
    }
  }
  return { start, end };
}

/**
 * GPU-hours during which some GPUs were free while a waiting job would have fitted in them (counted
 * up to the free GPUs and the fitting jobs' demand), sampled every `stepH` hours. Conservative
 * backfill leaves some (room kept for a reservation ahead); more than the ideal's is room lost to
 * late decisions.
 */
export function idleWhileFitting(
  jobs: readonly Pick<SimJob, "arrival" | "gpus">[],
  schedule: Schedule,
  poolGpus: number,
  stepH = 0.1,
): number {
  const events = jobs.flatMap((_j, i) => (Number.isFinite(schedule.start[i]!) ? [{ t: schedule.start[i]!, i }] : []));
  if (!events.length) return 0;
  const lastEnd = Math.max(...jobs.map((_, i) => schedule.end[i]!).filter(Number.isFinite));
  let idle = 0;
  const first = Math.min(...jobs.map((j) => j.arrival));
  for (let k = 0, t = first; t < lastEnd; t = first + ++k * stepH) {
    let busy = 0;
    const fitting: number[] = [];
    jobs.forEach((j, i) => {
      if (schedule.start[i]! <= t && t < schedule.end[i]!) busy += j.gpus;
      else if (j.arrival <= t && t < schedule.start[i]!) fitting.push(j.gpus);
    });
    const free = poolGpus - busy;
    const fit = fitting.filter((g) => g <= free).reduce((s, g) => s + g, 0);
    idle += stepH * Math.min(free, fit);
  }
  return idle;
}
