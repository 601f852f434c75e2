/** Capacity at a job's start and end: the start takes room on the pool chosen by placement (in the
 * start transaction, conditional, so a pool is never over-allocated), the end gives it back (in the
 * terminal transaction). With no pool defined for a job's GPU type the job starts as before,
 * holding nothing: pools are opt-in. */

import type { ClusterItem } from "../cluster/cluster";
import { getClusterItem, listPoolItems, releaseCapacityItem, takeCapacityItem } from "../cluster/store";
import type { Core } from "../core";
import type { CancellationReason, TransactItem } from "../db/transact";
import { NoCapacityError } from "../errors";
import type { JobItem, JobStatus } from "../job/job";
import { choosePool, demandOf, eligiblePools, type Placement } from "./placement";

const ENDS: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];

/** The release of what a RUNNING job held, when it ends (nothing for a job that holds nothing). */
export function capacityReleaseItems(core: Core, job: JobItem, to: JobStatus, at: string): TransactItem[] {
  if (job.status !== "RUNNING" || !ENDS.includes(to) || !job.allocation) return [];
  const { clusterId, ...held } = job.allocation;
  return [releaseCapacityItem(core.db, clusterId, held, at)];
}

/** Where a job starts now: "unpooled" (no pool could ever run it: start as before), or a placement. */
export type StartPlacement = { kind: "unpooled" } | ({ kind: "placed" } & Placement);

/**
 * The pool `job` starts on now. Throws NoCapacityError when pools could run it but none has room
 * (or all are draining).
 */
export async function placeForStart(core: Core, job: JobItem): Promise<StartPlacement> {
  const listed = eligiblePools(await listPoolItems(core.db, job.gpuType), job);
  if (!listed.length) return { kind: "unpooled" };
  // The index may lag a moment behind the pools: choose on what they hold now.
  const pools = (await Promise.all(listed.map((p) => getClusterItem(core.db, p.id, true)))).filter(
    (p): p is ClusterItem => p !== undefined,
  );
  const placement = choosePool(pools, job, core.catalog);
  if (!placement) {
    const where = job.clusterId ? `pool ${job.clusterId}` : `any ${job.gpuType} pool it may use`;
    throw new NoCapacityError(`No room for ${job.gpuCount} ${job.gpuType} GPU(s) on ${where} right now`);
  }
  return { kind: "placed", ...placement };
}

/** A placement was taken by someone else between reading the pool and writing: place again. */
export class PoolTakenMeanwhile extends Error {
  override name = "PoolTakenMeanwhile";
}

/** What the start transition records and the capacity it takes (at the start's time `at`), given where it was placed. */
export function startOnPlacement(core: Core, placement: StartPlacement, job: Pick<JobItem, "gpuCount" | "cpu" | "ramGb">) {
  if (placement.kind === "unpooled") return { details: {}, items: (_at: string): TransactItem[] => [] };
  const demand = demandOf(job);
  const poolId = placement.pool.id;
  return {
    details: {
      clusterId: placement.pool.id,
      provider: placement.pool.provider,
      // The job is charged at the price of the pool it runs on.
      pricePerGpuHourMicros: placement.pricePerGpuHourMicros,
      allocation: { clusterId: placement.pool.id, ...demand },
    },
    items: (at: string): TransactItem[] => [takeCapacityItem(core.db, poolId, demand, at)],
  };
}

/** Combines the start's other conditions with the capacity take (last): a failed take → PoolTakenMeanwhile. */
export function withCapacityTake(
  conditions: { items: TransactItem[]; error: (failed: (CancellationReason | undefined)[]) => Error },
  take: TransactItem[],
) {
  const n = conditions.items.length;
  return {
    items: [...conditions.items, ...take],
    error: (failed: (CancellationReason | undefined)[]) =>
      failed.slice(0, n).some(Boolean) ? conditions.error(failed.slice(0, n)) : new PoolTakenMeanwhile(),
  };
}
