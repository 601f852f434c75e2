/** What an admission pass sees and plans for a GPU type, read-only: its pools, its running set
 * (RUN# entries with expected ends) and the head of its queue (at most ADMISSION_WINDOW WAIT#
 * entries in admission order, each carrying what planning needs, so no job is read to plan), and
 * the plan of every pool (plan.ts). The pass (pass.ts) acts on it; the views (views.ts) plan from
 * it when a job is not in the stored plan. Its cost is bounded by the window and the running set. */
import type { GpuType } from "../catalog/catalog";
import type { ClusterItem } from "../cluster/cluster";
import { getClusterItem, recentPoolItems } from "../cluster/store";
import type { Core } from "../core";
import { eligiblePools } from "./placement";
import { admissionOrder, type PoolPlan, planPool, type RunningJob, type WaitingJob } from "./plan";
import { listRunEntries, listWaitWindow, type PlannedPlace, type RunEntryItem, type WaitEntryItem } from "./queue";

/** How many waiting jobs a pass looks at, from the head of the queue (Slurm's bf_max_job_test). */
export const ADMISSION_WINDOW = 200;

/** A pool with its catalog price, in admission order (cheapest provider first, then oldest pool). */
export interface PricedPool {
  pool: ClusterItem;
  price: number;
}

/** What a pass reads for one GPU type. */
export interface PassSnapshot {
  gpuType: GpuType;
  pools: PricedPool[];
  running: RunEntryItem[];
  /** The head of the queue, in admission order. */
  waiting: WaitEntryItem[];
  /** The sort key of the window's last entry when more jobs wait behind it. */
  windowEnd?: string;
  nowMs: number;
}

export interface PlannedPool extends PricedPool {
  plan: PoolPlan;
}

const msPerHour = (core: Core) => core.config.simulation.secondsPerGpuHour * 1000;

/**
 * The snapshot of `gpuType` (undefined when it has no pool: its jobs wait for an admin's start).
 * Pools are read consistently (the pool index may lag a release, a resize or a new pool; `alsoPools`
 * names pools it may not show yet); the running set and the window in one consistent Query each.
 */
export async function readPassSnapshot(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<PassSnapshot | undefined> {
  // Which pools: the list at most a second old (a new pool is named by its reaction); what they hold: read now.
  const poolIds = [...new Set([...(await recentPoolItems(core.db, gpuType)).map((p) => p.id), ...alsoPools])];
  if (!poolIds.length) return undefined;
  const [pools, running, window] = await Promise.all([
    Promise.all(poolIds.map((id) => getClusterItem(core.db, id, true))),
    listRunEntries(core.db, gpuType),
    listWaitWindow(core.db, gpuType, ADMISSION_WINDOW),
  ]);
  const priced = pools
    .filter((pool): pool is ClusterItem => pool?.gpuType === gpuType)
    .map((pool) => ({ pool, price: core.catalog.price(pool.gpuType, pool.provider) }))
    .filter((p): p is PricedPool => p.price !== undefined)
    .sort((a, b) => a.price - b.price || (a.pool.id < b.pool.id ? -1 : a.pool.id > b.pool.id ? 1 : 0));
  if (!priced.length) return undefined;
  // Entries written before they carried planning data are left to the reconciler to rewrite.
  const waiting = window.entries.filter((e) => typeof e.gpus === "number");
  return { gpuType, pools: priced, running, waiting, windowEnd: window.full ? window.lastSk : undefined, nowMs: core.now().getTime() };
}

/** What an entry asks of a pool, for eligiblePools. */
export const entryRequest = (e: WaitEntryItem) => ({
  gpuType: e.gpuType,
  gpuCount: e.gpus,
  cpu: e.cpu,
  ramGb: e.ramGb,
  provider: e.provider,
  orgId: e.orgId,
  clusterId: e.clusterId,
});

/** The running jobs holding `pool`, expected to end at start + estimate; plus, as ending any moment, whatever
 * the pool counts as allocated that no RUN# entry accounts for (a start whose entry the Query did not see yet). */
function runningOn(core: Core, snap: PassSnapshot, pool: ClusterItem): RunningJob[] {
  const held = snap.running
    .filter((r) => r.clusterId === pool.id)
    .map(
      (r): RunningJob => ({
        id: r.jobId,
        gpus: r.gpus,
        cpu: r.cpu,
        ramGb: r.ramGb,
        expectedEndMs: Date.parse(r.startedAt) + r.estimatedHours * msPerHour(core),
      }),
    );
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
 * The plan of every pool, cheapest first: each pool plans the window's jobs that may use it and were
 * not admitted by a cheaper pool's plan. A draining pool admits nothing (its queue has no expected start).
 */
export function planSnapshot(core: Core, snap: PassSnapshot): PlannedPool[] {
  const taken = new Set<string>();
  return snap.pools.map(({ pool, price }) => {
    const waiting = snap.waiting
      .filter((e) => !taken.has(e.jobId) && eligiblePools([pool], entryRequest(e)).length > 0)
      .map(
        (e): WaitingJob => ({
          id: e.jobId,
          priority: e.priority,
          gpus: e.gpus,
          cpu: e.cpu,
          ramGb: e.ramGb,
          runtimeMs: e.estimatedHours * msPerHour(core),
        }),
      );
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

/** Each window job's place: the non-draining pool where it is expected to start first (else any pool that lists it). */
export function placesOf(planned: PlannedPool[], started: ReadonlySet<string>): Record<string, PlannedPlace> {
  const places: Record<string, PlannedPlace> = {};
  planned.forEach(({ pool, plan }, index) => {
    plan.queue.forEach((q) => {
      if (started.has(q.id)) return;
      const start = Number.isFinite(q.expectedStartMs) ? q.expectedStartMs : null;
      const seen = places[q.id];
      const better = !seen || (seen[2] === null && start !== null) || (seen[2] !== null && start !== null && start < seen[2]);
      if (better && !(pool.draining && seen)) places[q.id] = [index, q.position, start];
    });
  });
  return places;
}
