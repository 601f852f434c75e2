/** Admission planning for one capacity pool, as pure functions over estimated runtimes: the queue
 * order (priority, then age) and, in that order, each waiting job's reservation — the earliest time
 * it fits for its whole estimated runtime beside the running jobs and the reservations of every job
 * ahead of it (Slurm's backfill: each job considered gets a reservation; a job further back starts
 * now only where it fits around all of them). The jobs whose reservation is now start now; those
 * that start ahead of a job still waiting are "backfilled". By construction a backfilled job never
 * moves the reservation of a job ahead of it (those were placed first), which
 * test/admission-plan.unit.test.ts checks in simulated time. Storage and time live elsewhere; this
 * module only computes. O(W × B) for W waiting jobs over a profile of B breakpoints. */
import type { Priority } from "../job/job";

/** What a job holds while it runs. */
export interface Demand {
  gpus: number;
  cpu: number;
  ramGb: number;
}

export interface RunningJob extends Demand {
  id: string;
  /** When it is expected to end (start + estimate), epoch ms. */
  expectedEndMs: number;
}

export interface WaitingJob extends Demand {
  /** A ULID: later ids are younger, so id order is age order. */
  id: string;
  priority: Priority;
  /** Estimated runtime, ms. */
  runtimeMs: number;
}

export interface PoolPlan {
  /** Jobs to start now, in admission order. */
  admit: string[];
  /** Of those, the ones started ahead of a job still waiting (backfill). */
  backfilled: string[];
  /** Waiting jobs (not admitted) in admission order with their expected start, epoch ms
   * (Infinity: never fits this pool). */
  queue: { id: string; position: number; expectedStartMs: number }[];
}

const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/** Admission order: higher priority first, then older (smaller id) first. */
export function admissionOrder<T extends Pick<WaitingJob, "id" | "priority">>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => RANK[a.priority] - RANK[b.priority] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export const fitsIn = (demand: Demand, room: Demand) => demand.gpus <= room.gpus && demand.cpu <= room.cpu && demand.ramGb <= room.ramGb;

/**
 * Free capacity over time as a step function: segment i is [at[i], at[i+1]) (the last one never
 * ends) with free[i] available.
 */
export class Profile {
  private readonly at: number[];
  private readonly free: Demand[];

  /** `total` from `nowMs` on, minus each running job until its expected end (one past its estimate: any moment). */
  constructor(total: Demand, running: readonly RunningJob[], nowMs: number) {
    const ends = running.map((r) => ({ end: Math.max(r.expectedEndMs, nowMs + 1), demand: r as Demand })).sort((a, b) => a.end - b.end);
    const room = { ...total };
    for (const { demand } of ends) sub(room, demand);
    this.at = [nowMs];
    this.free = [{ ...room }];
    for (const { end, demand } of ends) {
      add(room, demand);
      if (this.at.at(-1) === end) this.free[this.free.length - 1] = { ...room };
      else {
        this.at.push(end);
        this.free.push({ ...room });
      }
    }
  }

  /** Free capacity at `t` (from the profile's start on). */
  freeAt(t: number): Demand {
    return { ...this.free[this.segmentOf(t)]! };
  }

  /** The earliest time ≥ `from` at which `demand` fits for `duration`; Infinity when it never does. */
  earliest(from: number, duration: number, demand: Demand): number {
    let runStart: number | undefined;
    for (let i = this.segmentOf(from); i < this.at.length; i++) {
      if (!fitsIn(demand, this.free[i]!)) {
        runStart = undefined;
        continue;
      }
      runStart ??= Math.max(this.at[i]!, from);
      const end = i + 1 < this.at.length ? this.at[i + 1]! : Number.POSITIVE_INFINITY;
      if (end - runStart >= duration) return runStart;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Holds `demand` during [start, end). */
  reserve(start: number, end: number, demand: Demand): void {
    if (!Number.isFinite(start) || end <= start) return;
    const first = this.split(start);
    const last = Number.isFinite(end) ? this.split(end) : this.at.length;
    for (let i = first; i < last; i++) sub(this.free[i]!, demand);
  }

  private segmentOf(t: number): number {
    // Binary search: the last breakpoint ≤ t (t before the start: the first segment).
    let lo = 0;
    let hi = this.at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.at[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Makes `t` a breakpoint; returns its segment index. */
  private split(t: number): number {
    const i = this.segmentOf(t);
    if (this.at[i] === t) return i;
    if (t < this.at[0]!) return 0;
    this.at.splice(i + 1, 0, t);
    this.free.splice(i + 1, 0, { ...this.free[i]! });
    return i + 1;
  }
}

function sub(room: Demand, d: Demand) {
  room.gpus -= d.gpus;
  room.cpu -= d.cpu;
  room.ramGb -= d.ramGb;
}
function add(room: Demand, d: Demand) {
  room.gpus += d.gpus;
  room.cpu += d.cpu;
  room.ramGb += d.ramGb;
}

/**
 * What starts now in a pool of `total`, and when the rest is expected to. With `backfill: false`
 * jobs start strictly in order (none before the one ahead of it), for comparison.
 */
export function planPool(
  total: Demand,
  running: readonly RunningJob[],
  waiting: readonly WaitingJob[],
  nowMs: number,
  options: { backfill: boolean } = { backfill: true },
): PoolPlan {
  const queue = admissionOrder(waiting);
  const profile = new Profile(total, running, nowMs);
  const admit: string[] = [];
  const backfilled: string[] = [];
  const left: PoolPlan["queue"] = [];
  let earliest = nowMs;
  let someoneWaits = false;
  for (const job of queue) {
    // A zero estimate still holds its room for a moment, so a plan never overfills the pool.
    const duration = Math.max(1, job.runtimeMs);
    const start = fitsIn(job, total) ? profile.earliest(options.backfill ? nowMs : earliest, duration, job) : Number.POSITIVE_INFINITY;
    profile.reserve(start, start + duration, job);
    if (start === nowMs) {
      admit.push(job.id);
      if (someoneWaits) backfilled.push(job.id);
    } else {
      left.push({ id: job.id, position: left.length + 1, expectedStartMs: start });
      // In strict order a job too big for the pool holds nobody up.
      if (Number.isFinite(start)) {
        earliest = start;
        someoneWaits = true;
      }
    }
  }
  return { admit, backfilled, queue: left };
}
