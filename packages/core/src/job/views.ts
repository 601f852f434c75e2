/** "Why is it waiting": the public view of jobs with `waiting`, as Slurm's REASON column and
 * `squeue --start`. A read model: it reads the jobs' dependencies and the admission plan, and never
 * writes. */
import { type CapacityWaiting, capacityWaiting } from "../admission/views";
import type { Core } from "../core";
import { type DependencyStatus, dependencyIds, describeDependencies } from "./dependencies";
import { type Job, type JobItem, type JobStatus, toJob } from "./job";
import { getJobItems } from "./store";

/**
 * Why an open job is not running yet. AWAITING_START: an APPROVED job whose dependencies are met
 * and whose GPU type has no pool waits for an admin `start`; with pools it is WAITING_FOR_CAPACITY
 * (its place in a pool's queue, admission/views.ts).
 */
export type Waiting =
  | { reason: "AWAITING_APPROVAL"; message: string }
  | { reason: "WAITING_FOR_DEPENDENCIES"; dependencies: DependencyStatus[]; message: string }
  | { reason: "AWAITING_START"; message: string }
  | CapacityWaiting;

/** What `job` waits for, given its dependencies' statuses (by id); undefined when it is not waiting. */
export function waitingFor(job: JobItem, statuses: ReadonlyMap<string, JobStatus>): Waiting | undefined {
  if (job.status === "PENDING") return { reason: "AWAITING_APPROVAL", message: "Waiting for an admin to approve it" };
  if (job.status !== "APPROVED") return undefined;
  const deps = dependencyIds(job).map((id): DependencyStatus => ({ id, status: statuses.get(id) ?? "MISSING" }));
  const open = deps.filter((d) => d.status !== "COMPLETED");
  if (open.length) {
    return {
      reason: "WAITING_FOR_DEPENDENCIES",
      dependencies: deps,
      message: `Waiting for ${open.length} of ${deps.length} ${deps.length === 1 ? "dependency" : "dependencies"}: ${describeDependencies(open)}`,
    };
  }
  return { reason: "AWAITING_START", message: "Ready; waiting for an admin to start it" };
}

/**
 * The public view of several jobs with `waiting`: one batched read of the APPROVED jobs'
 * dependencies, then, for the ready ones, their place in a pool's queue (the last admission plan
 * of their GPU type).
 */
export async function jobViews(core: Core, items: JobItem[]): Promise<(Job & { waiting?: Waiting })[]> {
  const ids = items.filter((j) => j.status === "APPROVED").flatMap(dependencyIds);
  const found = ids.length ? await getJobItems(core.db, ids) : new Map<string, JobItem>();
  const statuses = new Map([...found].map(([id, job]) => [id, job.status] as const));
  const waits = items.map((item) => waitingFor(item, statuses));
  const ready = items.filter((_, i) => waits[i]?.reason === "AWAITING_START");
  const queued = ready.length ? await capacityWaiting(core, ready) : new Map<string, CapacityWaiting>();
  return items.map((item, i) => {
    const waiting = queued.get(item.id) ?? waits[i];
    return waiting ? { ...toJob(item), waiting } : toJob(item);
  });
}

/** The public view of one job with `waiting`. */
export const jobView = async (core: Core, item: JobItem) => (await jobViews(core, [item]))[0]!;
