/** Placement of a job on a capacity pool, as pure functions: which pools may run it, which one it
 * goes to when several have room (the cheapest provider's, then the one with most room: placement
 * by price, as SkyPilot places across clouds), and whether it can ever fit. */
import type { Catalog, GpuType, Provider } from "../catalog/catalog";
import type { Capacity, ClusterItem } from "../cluster/cluster";

/** What a job asks of a pool. */
export interface PlacementRequest {
  gpuType: GpuType;
  gpuCount: number;
  /** CPU cores and RAM GB are held only when the job asks for them. */
  cpu?: number;
  ramGb?: number;
  provider?: Provider;
  orgId?: string;
  /** Pinned to one pool (like a Slurm partition). */
  clusterId?: string;
}

/** The capacity a job holds while it runs. */
export const demandOf = (job: Pick<PlacementRequest, "gpuCount" | "cpu" | "ramGb">): Capacity => ({
  gpus: job.gpuCount,
  cpu: job.cpu ?? 0,
  ramGb: job.ramGb ?? 0,
});

const fits = (want: Capacity, room: Capacity) => want.gpus <= room.gpus && want.cpu <= room.cpu && want.ramGb <= room.ramGb;

const total = (pool: ClusterItem): Capacity => ({ gpus: pool.totalGpus, cpu: pool.totalCpu, ramGb: pool.totalRamGb });
const available = (pool: ClusterItem): Capacity => ({ gpus: pool.availableGpus, cpu: pool.availableCpu, ramGb: pool.availableRamGb });

/**
 * Pools that may run the job, capacity aside: its GPU type, its provider when it names one, shared
 * pools or private pools of the job's own org, and only the pinned pool when it pins one.
 */
export function eligiblePools(pools: readonly ClusterItem[], job: PlacementRequest): ClusterItem[] {
  return pools.filter(
    (p) =>
      p.gpuType === job.gpuType &&
      (job.provider === undefined || p.provider === job.provider) &&
      (p.orgId === undefined || p.orgId === job.orgId) &&
      (job.clusterId === undefined || p.id === job.clusterId),
  );
}

/** The largest eligible pool by GPUs (then CPU, RAM), for NEVER_FITS messages. */
export function largestPool(pools: readonly ClusterItem[]): ClusterItem | undefined {
  return [...pools].sort((a, b) => b.totalGpus - a.totalGpus || b.totalCpu - a.totalCpu || b.totalRamGb - a.totalRamGb)[0];
}

/** Whether some eligible pool is big enough for the job when empty. */
export const canEverFit = (pools: readonly ClusterItem[], job: PlacementRequest) => pools.some((p) => fits(demandOf(job), total(p)));

export interface Placement {
  pool: ClusterItem;
  pricePerGpuHourMicros: number;
}

/**
 * The pool the job starts on now: eligible, not draining, with room for its GPUs, CPU and RAM;
 * the cheapest provider's price per GPU-hour first, then the most free GPUs, then the oldest pool.
 */
export function choosePool(pools: readonly ClusterItem[], job: PlacementRequest, catalog: Catalog): Placement | undefined {
  const want = demandOf(job);
  return eligiblePools(pools, job)
    .filter((p) => !p.draining && fits(want, available(p)))
    .map((pool) => ({ pool, pricePerGpuHourMicros: catalog.price(pool.gpuType, pool.provider) }))
    .filter((c): c is Placement => c.pricePerGpuHourMicros !== undefined)
    .sort(
      (a, b) =>
        a.pricePerGpuHourMicros - b.pricePerGpuHourMicros ||
        b.pool.availableGpus - a.pool.availableGpus ||
        (a.pool.id < b.pool.id ? -1 : a.pool.id > b.pool.id ? 1 : 0),
    )[0];
}
