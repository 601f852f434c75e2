/** Admission planning for one capacity pool, as pure functions over estimated runtimes: the queue
 * order (priority, then age), the expected start of every waiting job if jobs start strictly in
 * that order, and which jobs start now — the ones at the front that fit, plus backfill: a job
 * further back starts now only if it fits now AND, by the estimates, ends before the first job
 * ahead of it that is still waiting could start. Such a job is gone before any job ahead of it
 * needs the room, so it never delays one (the property test in test/admission-plan.unit.test.ts
 * checks that against the same workload planned without backfill). Storage and time live
 * elsewhere; this module only computes. */
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
  /** Jobs to start now, in the order they were chosen. */
  admit: string[];
  /** Of those, the ones started by backfill (ahead of a job still waiting). */
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

export const fitsIn = (demand: Demand, room: Demand) =>
  demand.gpus <= room.gpus && demand.cpu <= room.cpu && demand.ramGb <= room.ramGb;

/** Resources in use over time: intervals [start, end) each holding a demand. */
class Profile {
  private readonly holds: { start: number; end: number; demand: Demand }[] = [];
  constructor(private readonly total: Demand) {}

  hold(start: number, end: number, demand: Demand) {
    this.holds.push({ start, end, demand });
  }

  /** Whether `demand` fits during the whole of [start, end). */
  fits(start: number, end: number, demand: Demand): boolean {
    // Usage only rises where a hold starts, so checking `start` and every hold start inside the window suffices.
    const points = [start, ...this.holds.filter((h) => h.start > start && h.start < end).map((h) => h.start)];
    return points.every((t) => {
      const used = { gpus: 0, cpu: 0, ramGb: 0 };
      for (const h of this.holds) {
        if (h.start <= t && t < h.end) {
          used.gpus += h.demand.gpus;
          used.cpu += h.demand.cpu;
          used.ramGb += h.demand.ramGb;
        }
      }
      return fitsIn(demand, { gpus: this.total.gpus - used.gpus, cpu: this.total.cpu - used.cpu, ramGb: this.total.ramGb - used.ramGb });
    });
  }

  /** Times at which usage can drop: the ends of holds, after `from`. */
  endsAfter(from: number): number[] {
    return [...new Set(this.holds.map((h) => h.end).filter((t) => t > from))].sort((a, b) => a - b);
  }
}

/**
 * Expected starts if `queue` (already in admission order) starts strictly in order from `nowMs`:
 * each job at the earliest time, not before the job ahead of it, when it fits for its whole
 * estimated runtime beside the running jobs and the jobs planned ahead of it.
 */
export function strictOrderStarts(total: Demand, running: readonly RunningJob[], queue: readonly WaitingJob[], nowMs: number): number[] {
  const profile = new Profile(total);
  // A job past its estimate is expected to end any moment.
  for (const r of running) profile.hold(nowMs, Math.max(r.expectedEndMs, nowMs + 1), r);
  const starts: number[] = [];
  let earliest = nowMs;
  for (const job of queue) {
    if (!fitsIn(job, total)) {
      starts.push(Number.POSITIVE_INFINITY);
      continue;
    }
    const candidates = [earliest, ...profile.endsAfter(earliest)];
    const start = candidates.find((t) => profile.fits(t, t + job.runtimeMs, job))!;
    profile.hold(start, start + job.runtimeMs, job);
    starts.push(start);
    earliest = start;
  }
  return starts;
}

/** What starts now in a pool of `total`, and when the rest is expected to. */
export function planPool(
  total: Demand,
  running: readonly RunningJob[],
  waiting: readonly WaitingJob[],
  nowMs: number,
  options: { backfill: boolean } = { backfill: true },
): PoolPlan {
  const queue = admissionOrder(waiting);
  const starts = strictOrderStarts(total, running, queue, nowMs);
  // In strict order the front of the queue that can start now does.
  const admitted = new Set(queue.filter((_, i) => starts[i] === nowMs).map((j) => j.id));
  const admit = queue.filter((j) => admitted.has(j.id)).map((j) => j.id);
  const backfilled: string[] = [];

  if (options.backfill) {
    const room = freeNow(total, running, queue.filter((j) => admitted.has(j.id)));
    // The expected start of the first job still waiting: nothing may hold room past it.
    let headStart = Number.POSITIVE_INFINITY;
    for (const [i, job] of queue.entries()) {
      if (admitted.has(job.id)) continue;
      // The head is the first waiting job that can ever start here (one too big for the pool holds nothing up).
      if (headStart === Number.POSITIVE_INFINITY && Number.isFinite(starts[i]!)) {
        headStart = starts[i]!;
        continue;
      }
      if (fitsIn(job, room) && nowMs + job.runtimeMs <= headStart) {
        admitted.add(job.id);
        admit.push(job.id);
        backfilled.push(job.id);
        room.gpus -= job.gpus;
        room.cpu -= job.cpu;
        room.ramGb -= job.ramGb;
      }
    }
  }

  const left = queue.filter((j) => !admitted.has(j.id));
  // Backfilled jobs end before the head's start, so the strict-order starts of the rest stand.
  const leftStarts = strictOrderStarts(
    total,
    [...running, ...queue.filter((j) => admitted.has(j.id)).map((j) => ({ ...j, expectedEndMs: nowMs + j.runtimeMs }))],
    left,
    nowMs,
  );
  return {
    admit,
    backfilled,
    queue: left.map((job, i) => ({ id: job.id, position: i + 1, expectedStartMs: leftStarts[i]! })),
  };
}

function freeNow(total: Demand, running: readonly Demand[], admitted: readonly Demand[]): Demand {
  const room = { ...total };
  for (const d of [...running, ...admitted]) {
    room.gpus -= d.gpus;
    room.cpu -= d.cpu;
    room.ramGb -= d.ramGb;
  }
  return room;
}
