/** Automatic admission: starts the APPROVED jobs of one GPU type on its pools, in each pool's order
 * (priority, then age) with backfill (plan.ts), each start being the same conditional transition
 * as an admin's start but with the pool fixed (dependencies COMPLETED and the capacity take in
 * the start transaction), then resumes the job's execution parked in AwaitStart. Driven by events
 * (a job approved, a running job ending, a waiting job leaving, a dependency completing, a pool
 * growing or undrained), never by a polling loop. Any number of admissions may run at once: the
 * conditional writes never start a job twice nor over-allocate a pool; a lost race is skipped.
 * Also answers "why is it waiting" for ready jobs (WAITING_FOR_CAPACITY) and a pool's queue. */
import type { Actor } from "../auth/token";
import type { GpuType } from "../catalog/catalog";
import type { ClusterItem } from "../cluster/cluster";
import { clusterAccess } from "../cluster/service";
import { getClusterItem, listPoolItems } from "../cluster/store";
import type { Core } from "../core";
import { ContentionError, DependenciesNotMetError, InvalidTransitionError, NotFoundError } from "../errors";
import { notifyWorkflow } from "../job/actions";
import { dependenciesCompleted } from "../job/dependencies";
import { toJob, type JobItem } from "../job/job";
import { getJobItems, listDependentIds } from "../job/store";
import { SYSTEM_ACTOR, transitionJob } from "../job/transitions";
import { PoolTakenMeanwhile, startOnPlacement, withCapacityTake } from "./capacity";
import { canEverFit, demandOf, eligiblePools } from "./placement";
import { listQueueJobIds } from "./queue";
import { admissionOrder, planPool, type PoolPlan, type RunningJob, type WaitingJob } from "./plan";

/** A pool with its catalog price, in admission order (cheapest provider first, then oldest pool). */
interface PricedPool {
  pool: ClusterItem;
  price: number;
}

/** What admission reads for one GPU type. */
interface Snapshot {
  pools: PricedPool[];
  /** APPROVED jobs whose dependencies are all COMPLETED, oldest first. */
  ready: JobItem[];
  /** RUNNING jobs of the type (those holding a pool carry `allocation`). */
  running: JobItem[];
  nowMs: number;
}

const msPerHour = (core: Core) => core.config.simulation.secondsPerGpuHour * 1000;

/**
 * The pools of `gpuType` (gsi3 POOLS#<type>), the APPROVED jobs of that type with every dependency
 * COMPLETED and the RUNNING ones holding its pools: the type's queue index (one consistent Query,
 * queue.ts), the jobs it names (BatchGet) and their dependencies (one more BatchGet). Undefined
 * when the type has no pool: such jobs wait for an admin's start.
 */
async function readSnapshot(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<Snapshot | undefined> {
  // The pool index (a GSI) may lag behind a release, a resize or a new pool: plan on the pools as
  // they are now (consistent reads), or a freed pool would look full and admit nothing.
  const poolIds = [...new Set([...(await listPoolItems(core.db, gpuType)).map((p) => p.id), ...alsoPools])];
  // One after the other: a type has a few pools, and many admissions at once must not open many connections.
  const pools: ClusterItem[] = [];
  for (const id of poolIds) {
    const pool = await getClusterItem(core.db, id, true);
    if (pool?.gpuType === gpuType) pools.push(pool);
  }
  if (!pools.length) return undefined;
  const ids = await listQueueJobIds(core.db, gpuType);
  // Nothing waiting (the common case after a release): the running jobs are not needed.
  // Consistent: a job approved (or a dependency completed) a moment ago must read as such.
  const jobs = ids.waiting.length ? await getJobItems(core.db, [...ids.waiting, ...ids.running], true) : new Map<string, JobItem>();
  const byId = (list: string[], status: JobItem["status"]) =>
    list
      .map((id) => jobs.get(id))
      .filter((j): j is JobItem => j?.status === status)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const approved = byId(ids.waiting, "APPROVED");
  const running = byId(ids.running, "RUNNING");
  const depIds = approved.flatMap((j) => j.dependsOn ?? []);
  const deps = depIds.length ? await getJobItems(core.db, depIds, true) : new Map<string, JobItem>();
  const ready = approved.filter((j) => (j.dependsOn ?? []).every((id) => deps.get(id)?.status === "COMPLETED"));
  const priced = pools
    .map((pool) => ({ pool, price: core.catalog.price(pool.gpuType, pool.provider) }))
    .filter((p): p is PricedPool => p.price !== undefined)
    .sort((a, b) => a.price - b.price || (a.pool.id < b.pool.id ? -1 : a.pool.id > b.pool.id ? 1 : 0));
  return { pools: priced, ready, running, nowMs: core.now().getTime() };
}

const asWaiting = (core: Core, job: JobItem): WaitingJob => ({
  id: job.id,
  priority: job.priority,
  runtimeMs: job.estimatedHours * msPerHour(core),
  ...demandOf(job),
});

/** The running jobs holding `pool`, expected to end at start + estimate; plus, as ending any moment, whatever
 * the pool counts as allocated that no running job read accounts for (a start the index does not show yet). */
function runningOn(core: Core, snap: Snapshot, pool: ClusterItem): RunningJob[] {
  const held = snap.running
    .filter((j) => j.allocation?.clusterId === pool.id)
    .map((j): RunningJob => {
      const { gpus, cpu, ramGb } = j.allocation!;
      return { id: j.id, gpus, cpu, ramGb, expectedEndMs: Date.parse(j.startedAt ?? new Date(snap.nowMs).toISOString()) + j.estimatedHours * msPerHour(core) };
    });
  const sum = (k: "gpus" | "cpu" | "ramGb") => held.reduce((n, j) => n + j[k], 0);
  const unknown = {
    gpus: Math.max(0, pool.allocatedGpus - sum("gpus")),
    cpu: Math.max(0, pool.allocatedCpu - sum("cpu")),
    ramGb: Math.max(0, pool.allocatedRamGb - sum("ramGb")),
  };
  if (unknown.gpus || unknown.cpu || unknown.ramGb) held.push({ id: "unaccounted", ...unknown, expectedEndMs: snap.nowMs });
  return held;
}

/**
 * The plan of every pool, cheapest first: each pool plans the ready jobs that may use it and were
 * not admitted by a cheaper pool's plan. A draining pool admits nothing (its queue has no expected start).
 */
function planPools(core: Core, snap: Snapshot): { pool: ClusterItem; price: number; plan: PoolPlan }[] {
  const taken = new Set<string>();
  return snap.pools.map(({ pool, price }) => {
    const waiting = snap.ready.filter((j) => !taken.has(j.id) && eligiblePools([pool], j).length > 0).map((j) => asWaiting(core, j));
    const plan: PoolPlan = pool.draining
      ? {
          admit: [],
          backfilled: [],
          queue: admissionOrder(waiting).map((j, i) => ({ id: j.id, position: i + 1, expectedStartMs: Number.POSITIVE_INFINITY })),
        }
      : planPool({ gpus: pool.totalGpus, cpu: pool.totalCpu, ramGb: pool.totalRamGb }, runningOn(core, snap, pool), waiting, snap.nowMs);
    for (const id of plan.admit) taken.add(id);
    return { pool, price, plan };
  });
}

/** "skipped": the job moved on (another admission or an admin started or cancelled it); "raced": a
 * write contended or a dependency changed; "pool-full": the pool's room was taken meanwhile. */
type Outcome = "started" | "skipped" | "raced" | "pool-full";

/** Starts `job` on `pool`: the start transition with the pool fixed; a lost race is "skipped" or "pool-full". */
async function admitOn(core: Core, job: JobItem, pool: ClusterItem, price: number, backfilled: boolean): Promise<Outcome> {
  const placement = startOnPlacement(core, { kind: "placed", pool, pricePerGpuHourMicros: price }, job);
  try {
    const result = await transitionJob(core, job.id, {
      action: "start",
      from: ["APPROVED"],
      to: "RUNNING",
      actor: SYSTEM_ACTOR,
      reason: `${backfilled ? "backfilled" : "admitted"} to pool ${pool.name} (${pool.id})`,
      details: placement.details,
      conditions: (read) => withCapacityTake(dependenciesCompleted(core)(read), placement.items),
    });
    await notifyWorkflow(core, result);
    return "started";
  } catch (error) {
    if (error instanceof PoolTakenMeanwhile) return "pool-full";
    // Started, cancelled or gone meanwhile (another admission or an admin won).
    if (error instanceof InvalidTransitionError || error instanceof NotFoundError) return "skipped";
    if (error instanceof DependenciesNotMetError || error instanceof ContentionError) return "raced";
    throw error;
  }
}

/** Rounds of one admission: a round that lost a race plans again from a fresh read, at most this many times. */
const MAX_ROUNDS = 3;

/**
 * Admits what can start now on the pools of `gpuType`: for each pool, cheapest provider first,
 * the plan's `admit` list (front of the queue, then backfill), each by a conditional start. A pool
 * that filled meanwhile (another admission or an admin's start took the room) stops its list. A
 * round that found a pool filled or a write contended read a state others were changing, so it
 * reads and plans again (at most MAX_ROUNDS), so that concurrent admissions leave no room unused
 * that their plans would fill. A job another admission started is simply skipped. Returns the ids
 * it started.
 */
export async function admitWaiting(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<string[]> {
  const started: string[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const snap = await readSnapshot(core, gpuType, alsoPools);
    if (!snap || !snap.ready.length) break;
    const byId = new Map(snap.ready.map((j) => [j.id, j]));
    let raced = false;
    for (const { pool, price, plan } of planPools(core, snap)) {
      const backfilled = new Set(plan.backfilled);
      for (const id of plan.admit) {
        const outcome = await admitOn(core, byId.get(id)!, pool, price, backfilled.has(id));
        if (outcome === "started") started.push(id);
        if (outcome === "raced" || outcome === "pool-full") raced = true;
        if (outcome === "pool-full") break;
      }
    }
    if (!raced) break;
  }
  if (started.length) core.log.info("jobs admitted", { gpuType, started });
  return started;
}

/** Runs admission for each GPU type, best effort: a failure is logged (the next trigger, or the reconciler, retries). */
export async function admitFor(core: Core, gpuTypes: Iterable<GpuType>, why: string, alsoPools: readonly string[] = []): Promise<void> {
  for (const gpuType of new Set(gpuTypes)) {
    try {
      await admitWaiting(core, gpuType, alsoPools);
    } catch (error) {
      core.log.warn("admission failed; left for the next trigger", { gpuType, why, error });
    }
  }
}

/**
 * The admission a committed transition calls for: a job approved (it may start), a job that held
 * capacity ending (room freed), a waiting job leaving (the head may have been holding backfill
 * back), a job COMPLETED (its APPROVED dependents may now be ready: admission for their GPU types).
 * Best effort, after the commit.
 */
export async function admitAfterTransition(core: Core, before: JobItem, after: JobItem): Promise<void> {
  const types = new Set<GpuType>();
  if (after.status === "APPROVED") types.add(after.gpuType);
  if (before.allocation && after.status !== "RUNNING") types.add(before.gpuType);
  if (before.status === "APPROVED" && after.status !== "RUNNING") types.add(before.gpuType);
  if (after.status === "COMPLETED") {
    try {
      const dependents = await getJobItems(core.db, await listDependentIds(core.db, after.id));
      for (const job of dependents.values()) if (job.status === "APPROVED") types.add(job.gpuType);
    } catch (error) {
      core.log.warn("dependents not read for admission", { jobId: after.id, error });
    }
  }
  if (types.size) await admitFor(core, types, `job ${after.id} ${after.status}`);
}

/** Why a ready job waits for capacity: its place in the queue of the cheapest pool it fits. */
export interface CapacityWaiting {
  reason: "WAITING_FOR_CAPACITY";
  clusterId: string;
  position: number;
  /** ISO time, null when nothing is expected (the pool is draining). */
  expectedStartAt: string | null;
  message: string;
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** A pool's queue: the jobs its plan admits now (position 1..k, start now) then the rest, in admission order. */
function queueOf(plan: PoolPlan, nowMs: number) {
  const now = plan.admit.map((id, i) => ({ id, position: i + 1, expectedStartMs: nowMs }));
  return [...now, ...plan.queue.map((q) => ({ ...q, position: q.position + now.length }))];
}

/**
 * WAITING_FOR_CAPACITY for each of `jobs` (APPROVED, dependencies met) that some pool may run: its
 * position and expected start in the queue of the cheapest non-draining pool it may use and fits
 * (any eligible pool when all are draining). Jobs of a GPU type without pools are absent. One
 * snapshot per GPU type.
 */
export async function capacityWaiting(core: Core, jobs: JobItem[]): Promise<Map<string, CapacityWaiting>> {
  const out = new Map<string, CapacityWaiting>();
  for (const gpuType of new Set(jobs.map((j) => j.gpuType))) {
    const snap = await readSnapshot(core, gpuType);
    if (!snap) continue;
    const plans = planPools(core, snap);
    for (const job of jobs.filter((j) => j.gpuType === gpuType)) {
      const mine = plans.filter(({ pool }) => eligiblePools([pool], job).length > 0 && canEverFit([pool], job));
      const chosen = mine.find(({ pool }) => !pool.draining) ?? mine[0];
      const entry = chosen && queueOf(chosen.plan, snap.nowMs).find((q) => q.id === job.id);
      if (!chosen || !entry) continue;
      const at = iso(entry.expectedStartMs);
      out.set(job.id, {
        reason: "WAITING_FOR_CAPACITY",
        clusterId: chosen.pool.id,
        position: entry.position,
        expectedStartAt: at,
        message:
          `Waiting for room on pool ${chosen.pool.name} (${chosen.pool.id}): position ${entry.position} in its queue` +
          (at ? `, expected to start around ${at}` : ", which is draining"),
      });
    }
  }
  return out;
}

/**
 * `GET /clusters/{id}/queue`: the pool's waiting jobs in admission order with expected starts.
 * Visibility as GET /clusters/{id}. Admins and a job's owner see the job; others an anonymous entry.
 */
export async function clusterQueue(core: Core, actor: Actor, clusterId: string) {
  const { cluster } = await clusterAccess(core, actor, clusterId);
  const snap = await readSnapshot(core, cluster.gpuType);
  const planned = snap && planPools(core, snap).find(({ pool }) => pool.id === cluster.id);
  const byId = new Map((snap?.ready ?? []).map((j) => [j.id, j]));
  const items = planned
    ? queueOf(planned.plan, snap.nowMs).map((q) => {
        const job = byId.get(q.id)!;
        const entry = { position: q.position, expectedStartAt: iso(q.expectedStartMs), gpus: job.gpuCount };
        return actor.role === "admin" || job.ownerId === actor.userId ? { ...entry, job: toJob(job) } : entry;
      })
    : [];
  return { clusterId: cluster.id, items };
}
