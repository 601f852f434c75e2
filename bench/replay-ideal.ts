/** Ideal schedules for the workload replay (bench/replay.ts): pure, event-driven simulations of one
 * GPU pool that decides instantly at every arrival and every end, the ideal expected-start
 * predictor, and the summary figures (waits, utilisation, makespan) and the hit rule both the
 * system and the ideal predictor are judged by. Times are simulated hours; nothing here does I/O.
 *
 * Policies:
 *   - "fifo": strict arrival order, no backfill (the head blocks everyone behind it);
 *   - "priority-easy": high > medium > low, then age, with EASY backfill: the head gets a
 *     reservation at its earliest start (the shadow time); a job behind it starts now if it fits
 *     now and either ends by the shadow time or uses only GPUs the head will not need then. */
import { quantile } from "./stats";

export type Priority = "high" | "medium" | "low";
export type Policy = "fifo" | "priority-easy";

export interface SimJob {
  arrival: number;
  gpus: number;
  duration: number;
  priority: Priority;
}

/** A job already running when a simulation begins (the predictor's snapshot): its GPUs and end. */
export interface RunningJob {
  gpus: number;
  end: number;
}

/** Start and end of every job, by its index in the input. */
export interface Schedule {
  start: number[];
  end: number[];
}

const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/** What the event loop shows an observer at each arrival, just before the job joins the queue. */
interface ArrivalView {
  t: number;
  /** Running jobs, ascending by end (only those still running at t). */
  running: readonly RunningJob[];
  /** Waiting job indices in the policy's order. */
  waiting: readonly number[];
}

/** First index in the sorted `xs` whose key is greater than `key` (stable insertion point). */
function upperBound<T>(xs: readonly T[], key: number, keyOf: (x: T) => number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyOf(xs[mid]!) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function run(
  jobs: readonly SimJob[],
  poolGpus: number,
  policy: Policy,
  initial: readonly RunningJob[],
  onArrival?: (k: number, view: ArrivalView) => void,
): Schedule {
  const n = jobs.length;
  for (const j of jobs)
    if (j.gpus > poolGpus || j.gpus < 1) throw new Error(`a job of ${j.gpus} GPUs can never run on a pool of ${poolGpus}`);
  const start = new Array<number>(n).fill(NaN);
  const end = new Array<number>(n).fill(NaN);
  // Arrival order: by time, then input index (so equal times keep the input's order = age).
  const order = [...jobs.keys()].sort((a, b) => jobs[a]!.arrival - jobs[b]!.arrival || a - b);
  const seq = new Array<number>(n);
  order.forEach((k, i) => {
    seq[k] = i;
  });
  // The queue key: arrival sequence (FIFO), or priority rank then arrival sequence.
  const key = (k: number) => (policy === "fifo" ? seq[k]! : RANK[jobs[k]!.priority] * n + seq[k]!);

  // Running jobs sorted by end; at most poolGpus of them, since each holds at least one GPU.
  const running: RunningJob[] = [...initial].sort((a, b) => a.end - b.end);
  let free = poolGpus - running.reduce((s, r) => s + r.gpus, 0);
  if (free < 0) throw new Error("the running jobs hold more GPUs than the pool has");
  let queue: number[] = [];

  const begin = (k: number, t: number) => {
    const job = jobs[k]!;
    start[k] = t;
    end[k] = t + job.duration;
    free -= job.gpus;
    const r = { gpus: job.gpus, end: end[k]! };
    running.splice(
      upperBound(running, r.end, (x) => x.end),
      0,
      r,
    );
  };

  const decide = (t: number) => {
    // Start from the head while it fits.
    let h = 0;
    while (h < queue.length && jobs[queue[h]!]!.gpus <= free) begin(queue[h++]!, t);
    queue = queue.slice(h);
    if (policy === "fifo" || queue.length < 2 || free === 0) return;
    // The head's reservation: the first end at which enough GPUs are free, and what it leaves spare.
    const head = jobs[queue[0]!]!;
    let avail = free;
    let shadow = Infinity;
    let extra = 0;
    for (const r of running) {
      avail += r.gpus;
      if (avail >= head.gpus) {
        shadow = r.end;
        extra = avail - head.gpus;
        break;
      }
    }
    const left: number[] = [queue[0]!];
    for (let i = 1; i < queue.length; i++) {
      const k = queue[i]!;
      const job = jobs[k]!;
      const endsInTime = t + job.duration <= shadow;
      if (job.gpus <= free && (endsInTime || job.gpus <= extra)) {
        begin(k, t);
        if (!endsInTime) extra -= job.gpus;
      } else left.push(k);
    }
    queue = left;
  };

  let next = 0;
  while (next < n || running.length > 0) {
    const tArrive = next < n ? jobs[order[next]!]!.arrival : Infinity;
    const tEnd = running.length > 0 ? running[0]!.end : Infinity;
    const t = Math.min(tArrive, tEnd);
    // Every end at t first, then every arrival at t, then one decision.
    let ended = 0;
    while (ended < running.length && running[ended]!.end <= t) free += running[ended++]!.gpus;
    if (ended) running.splice(0, ended);
    while (next < n && jobs[order[next]!]!.arrival <= t) {
      const k = order[next++]!;
      onArrival?.(k, { t, running, waiting: queue });
      queue.splice(upperBound(queue, key(k), key), 0, k);
    }
    decide(t);
  }
  return { start, end };
}

/** The schedule `policy` gives `jobs` on a pool of `poolGpus`, optionally beside jobs already running. */
export function simulate(jobs: readonly SimJob[], poolGpus: number, policy: Policy, running: readonly RunningJob[] = []): Schedule {
  return run(jobs, poolGpus, policy, running);
}

/**
 * The ideal predictor: for each job, at its arrival, "priority-easy" replayed on only what is known
 * then (the running jobs with their remaining time, the waiting jobs, this job; no future
 * arrivals), and the start it gives this job. Also returns the real "priority-easy" schedule the
 * predictions are judged against. One small simulation per job: only the jobs open at that moment.
 */
export function idealPredictions(jobs: readonly SimJob[], poolGpus: number): { predicted: number[]; schedule: Schedule } {
  const predicted = new Array<number>(jobs.length).fill(NaN);
  const schedule = run(jobs, poolGpus, "priority-easy", [], (k, { t, running, waiting }) => {
    // The known waiting jobs in age order (input order = arrival order here), this job last; all
    // present from t on, so the sub-simulation's tie-break by index keeps their age order.
    const known = [...waiting].sort((a, b) => jobs[a]!.arrival - jobs[b]!.arrival || a - b);
    const sub = [...known, k].map((i) => ({ ...jobs[i]!, arrival: t }));
    predicted[k] = run(sub, poolGpus, "priority-easy", running).start[sub.length - 1]!;
  });
  return { predicted, schedule };
}

/**
 * Whether an expected start was right: within 10 % of the job's actual wait, or, for a job that
 * waited less than half an hour, within half an hour (10 % of a tiny wait is noise).
 */
export function isHit(predictedStart: number, actualStart: number, arrival: number): boolean {
  const wait = actualStart - arrival;
  const error = Math.abs(predictedStart - actualStart);
  return wait < 0.5 ? error < 0.5 : error <= 0.1 * wait;
}

export interface Summary {
  /** Jobs that started (waits are over these). */
  jobs: number;
  meanWait: number;
  p95Wait: number;
  highMeanWait: number;
  /** GPU-hours used ÷ (pool GPUs × makespan). */
  utilisation: number;
  /** First arrival to last end. */
  makespan: number;
  gpuHours: number;
}

/** Waits (of the jobs that started), utilisation and makespan (of those that also ended) of a
 * schedule; a missing start or end is NaN. */
export function summarize(jobs: readonly Pick<SimJob, "arrival" | "gpus" | "priority">[], schedule: Schedule, poolGpus: number): Summary {
  const started = [...jobs.keys()].filter((i) => Number.isFinite(schedule.start[i]));
  const done = started.filter((i) => Number.isFinite(schedule.end[i]));
  const wait = (i: number) => schedule.start[i]! - jobs[i]!.arrival;
  const waits = started.map(wait);
  const high = started.filter((i) => jobs[i]!.priority === "high").map(wait);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
  const firstArrival = Math.min(...jobs.map((j) => j.arrival));
  const lastEnd = Math.max(...done.map((i) => schedule.end[i]!));
  const makespan = done.length ? lastEnd - firstArrival : NaN;
  const gpuHours = done.reduce((s, i) => s + jobs[i]!.gpus * (schedule.end[i]! - schedule.start[i]!), 0);
  return {
    jobs: started.length,
    meanWait: mean(waits),
    p95Wait: quantile(waits, 0.95),
    highMeanWait: mean(high),
    utilisation: gpuHours / (poolGpus * makespan),
    makespan,
    gpuHours,
  };
}
