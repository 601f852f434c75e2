/** Admission read models: a ready job's place in a pool's queue (WAITING_FOR_CAPACITY, with its
 * expected start) reads the plan the last admission pass stored (one GetItem per GPU type, whatever
 * the queue's length); only a job approved after that pass, and so not in it yet, is planned on the
 * spot from the same bounded snapshot a pass reads. A pool's queue (an admin's or its org's list)
 * is planned from a fresh snapshot of that kind. */
import type { Actor } from "../auth/token";
import type { GpuType } from "../catalog/catalog";
import { clusterAccess } from "../cluster/access";
import type { ClusterItem } from "../cluster/cluster";
import { getClusterItem } from "../cluster/store";
import type { Core } from "../core";
import { type JobItem, toJob } from "../job/job";
import { getJobItems } from "../job/store";
import { coalesced } from "../util/coalesce";
import { queueKeys } from "./keys";
import { canEverFit, eligiblePools } from "./placement";
import type { PoolPlan } from "./plan";
import { getPlanItem, type PlannedPlace } from "./queue";
import { ADMISSION_WINDOW, type PlannedPool, placesOf, planSnapshot, readPassSnapshot } from "./snapshot";

/** A ready job waiting for room on a pool. */
export interface CapacityWaiting {
  reason: "WAITING_FOR_CAPACITY";
  clusterId: string;
  /** Its position in that pool's queue (ADMISSION_WINDOW + 1: somewhere behind the planned window). */
  position: number;
  /** ISO time, null when nothing is expected (the pool is draining, or the job is behind the window). */
  expectedStartAt: string | null;
  message: string;
}

const iso = (ms: number | null) => (ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** Places of a type's jobs with the pools they refer to. */
interface Places {
  pools: (ClusterItem | undefined)[];
  places: Record<string, PlannedPlace>;
  windowEnd?: string;
  /** Jobs the snapshot saw running (a fresh one only): a job admitted between its approval and this
   * read is answered with its actual start, not as lost behind the window. */
  started?: Map<string, { clusterId: string; startedAt: string }>;
}

async function storedPlaces(core: Core, gpuType: GpuType): Promise<Places | undefined> {
  const plan = await getPlanItem(core.db, gpuType);
  if (!plan) return undefined;
  // The pools as the pass read them (a plan stored before it carried them names them: read them).
  const pools = await Promise.all(plan.pools.map((p) => (typeof p === "string" ? getClusterItem(core.db, p) : (p as ClusterItem))));
  return { pools, places: plan.places, windowEnd: plan.windowEnd };
}

async function livePlaces(core: Core, gpuType: GpuType): Promise<Places | undefined> {
  const snap = await readPassSnapshot(core, gpuType);
  if (!snap) return undefined;
  const planned = planSnapshot(core, snap);
  // Jobs the plan would admit now are shown at the front of their pool's queue, starting now.
  const places = placesOf(
    planned.map((p) => ({ ...p, plan: withAdmitted(p.plan, snap.nowMs) })),
    new Set(),
  );
  const started = new Map(snap.running.map((r) => [r.jobId, { clusterId: r.clusterId, startedAt: r.startedAt }]));
  return { pools: planned.map((p) => p.pool), places, windowEnd: snap.windowEnd, started };
}

/** livePlaces per core, coalesced (util/coalesce.ts): a burst of submissions of one GPU type in this
 * process shares a few snapshot reads, each begun after the submissions that share it committed. */
const liveReads = new WeakMap<Core, (gpuType: string) => Promise<Places | undefined>>();
function sharedLivePlaces(core: Core, gpuType: GpuType): Promise<Places | undefined> {
  let read = liveReads.get(core);
  if (!read) {
    read = coalesced((type) => livePlaces(core, type as GpuType));
    liveReads.set(core, read);
  }
  return read(gpuType);
}

/** A pool's plan with the jobs it admits now at the front of its queue (start now). */
function withAdmitted(plan: PoolPlan, nowMs: number): PoolPlan {
  const now = plan.admit.map((id, i) => ({ id, position: i + 1, expectedStartMs: nowMs }));
  return { ...plan, queue: [...now, ...plan.queue.map((q) => ({ ...q, position: q.position + now.length }))] };
}

function describe(pool: ClusterItem, position: number, at: string | null, behind: boolean): CapacityWaiting {
  const where = `Waiting for room on pool ${pool.name} (${pool.id})`;
  return {
    reason: "WAITING_FOR_CAPACITY",
    clusterId: pool.id,
    position,
    expectedStartAt: at,
    message: behind
      ? `${where}: behind the first ${ADMISSION_WINDOW} jobs of its queue; it gets an expected start once it is among them`
      : `${where}: position ${position} in its queue${at ? `, expected to start around ${at}` : pool.draining ? ", which is draining" : ""}`,
  };
}

/** A job the snapshot saw running while the caller's copy still says APPROVED (admitted a moment ago). */
function admitted(pool: ClusterItem, startedAt: string): CapacityWaiting {
  return {
    reason: "WAITING_FOR_CAPACITY",
    clusterId: pool.id,
    position: 1,
    expectedStartAt: startedAt,
    message: `Admitted to pool ${pool.name} (${pool.id}): started at ${startedAt}`,
  };
}

/** A job approved less than this long ago is planned from a fresh snapshot without reading the stored plan. */
const JUST_APPROVED_MS = 250;

/**
 * WAITING_FOR_CAPACITY for each of `jobs` (APPROVED, dependencies met) that some pool may run: its
 * position and expected start in the last plan. Jobs of a GPU type without pools are absent.
 */
export async function capacityWaiting(core: Core, jobs: JobItem[]): Promise<Map<string, CapacityWaiting>> {
  const out = new Map<string, CapacityWaiting>();
  for (const gpuType of new Set(jobs.map((j) => j.gpuType))) {
    const mine = jobs.filter((j) => j.gpuType === gpuType);
    // Approved a moment ago (the answer of the submission or approval itself): a pass has most
    // likely not planned them yet, so the stored plan is not worth reading (a fresh snapshot is as right).
    const nowMs = core.now().getTime();
    const sinceApproval = (j: JobItem) => (j.approvedAt === undefined ? Number.NaN : nowMs - Date.parse(j.approvedAt));
    const justApproved = mine.every((j) => sinceApproval(j) >= 0 && sinceApproval(j) < JUST_APPROVED_MS);
    let known = justApproved ? undefined : await storedPlaces(core, gpuType);
    const beyond = (job: JobItem) => known?.windowEnd !== undefined && queueKeys.waiting(gpuType, job).sk > known.windowEnd;
    // Approved after the last pass (it is about to plan them): plan now, from the same bounded snapshot.
    if (!known || mine.some((j) => !known!.places[j.id] && !beyond(j))) known = (await sharedLivePlaces(core, gpuType)) ?? known;
    if (!known) continue;
    for (const job of mine) {
      const place = known.places[job.id];
      const pool = place ? known.pools[place[0]] : undefined;
      if (place && pool) {
        out.set(job.id, describe(pool, place[1], iso(place[2]), false));
        continue;
      }
      const run = known.started?.get(job.id);
      const runPool = run && known.pools.find((p) => p?.id === run.clusterId);
      if (run && runPool) {
        out.set(job.id, admitted(runPool, run.startedAt));
        continue;
      }
      // Behind the window: the cheapest pool that may ever run it.
      const candidates = known.pools.filter(
        (p): p is ClusterItem => p !== undefined && eligiblePools([p], job).length > 0 && canEverFit([p], job),
      );
      const fallback = candidates.find((p) => !p.draining) ?? candidates[0];
      if (fallback) out.set(job.id, describe(fallback, ADMISSION_WINDOW + 1, null, true));
    }
  }
  return out;
}

/**
 * `GET /clusters/{id}/queue`: the pool's waiting jobs in admission order with expected starts, the
 * first ADMISSION_WINDOW of them (those a pass plans). Visibility as GET /clusters/{id}. Admins
 * and a job's owner see the job; others an anonymous entry.
 */
export async function clusterQueue(core: Core, actor: Actor, clusterId: string) {
  const { cluster } = await clusterAccess(core, actor, clusterId);
  const snap = await readPassSnapshot(core, cluster.gpuType);
  const planned: PlannedPool | undefined = snap && planSnapshot(core, snap).find(({ pool }) => pool.id === cluster.id);
  if (!snap || !planned) return { clusterId: cluster.id, items: [] };
  const queue = withAdmitted(planned.plan, snap.nowMs).queue;
  const entries = new Map(snap.waiting.map((e) => [e.jobId, e]));
  const visible = queue.map((q) => q.id).filter((id) => actor.role === "admin" || entries.get(id)?.ownerId === actor.userId);
  const jobs = visible.length ? await getJobItems(core.db, visible) : new Map<string, JobItem>();
  const items = queue.map((q) => {
    const entry = { position: q.position, expectedStartAt: iso(q.expectedStartMs), gpus: entries.get(q.id)!.gpus };
    const job = jobs.get(q.id);
    return job ? { ...entry, job: toJob(job) } : entry;
  });
  return { clusterId: cluster.id, items };
}
