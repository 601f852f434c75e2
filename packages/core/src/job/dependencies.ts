/** Job dependencies: a job starts only once every job in its `dependsOn` is COMPLETED; when one
 * ends REJECTED, FAILED or CANCELLED its open dependents are cancelled, transitively; and what a
 * waiting job waits for ("why is it waiting"). Submission's checks live in submit.ts. */
import type { Core } from "../core";
import type { CancellationReason, TransactItem } from "../db/transact";
import { DependenciesNotMetError, InvalidTransitionError } from "../errors";
import { capacityWaiting, type CapacityWaiting } from "../admission/engine";
import { notifyWorkflow } from "./actions";
import { endedUnsuccessfully, toJob, type Job, type JobItem, type JobStatus } from "./job";
import { dependencyCompletedCheck, getJobItems, listDependentIds } from "./store";
import { SYSTEM_ACTOR, transitionJob } from "./transitions";

/** A dependency and its status ("MISSING" for one that no longer exists). */
export interface DependencyStatus {
  id: string;
  status: JobStatus | "MISSING";
}

/**
 * Why an open job is not running yet. AWAITING_START: an APPROVED job whose dependencies are met
 * and whose GPU type has no pool waits for an admin `start`; with pools it is WAITING_FOR_CAPACITY
 * (its place in a pool's queue, admission/engine.ts).
 */
export type Waiting =
  | { reason: "AWAITING_APPROVAL"; message: string }
  | { reason: "WAITING_FOR_DEPENDENCIES"; dependencies: DependencyStatus[]; message: string }
  | { reason: "AWAITING_START"; message: string }
  | CapacityWaiting;

/** At most this many dependents are cancelled by one cascade; the reconciler finishes a larger one. */
export const MAX_CASCADE = 1000;

const dependencyIds = (job: Pick<JobItem, "dependsOn">): string[] => job.dependsOn ?? [];

/**
 * The transition condition of `start`: a ConditionCheck `status = COMPLETED` on every dependency,
 * in the same transaction as the job's update, so a job never starts beside a dependency that is
 * not done. A failed check becomes DependenciesNotMetError naming the dependencies and statuses.
 */
export function dependenciesCompleted(core: Core) {
  return (job: JobItem) => ({
    items: dependencyIds(job).map((id): TransactItem => dependencyCompletedCheck(core.db, id)),
    error: (failed: (CancellationReason | undefined)[]) => {
      const unmet = dependencyIds(job).flatMap((id, i): DependencyStatus[] => {
        const reason = failed[i];
        return reason ? [{ id, status: (reason.item as JobItem | undefined)?.status ?? "MISSING" }] : [];
      });
      return new DependenciesNotMetError(`Cannot start job ${job.id}: ${describe(unmet)} (every dependency must be COMPLETED)`, unmet);
    },
  });
}

const describe = (deps: DependencyStatus[]) => deps.map((d) => `${d.id} is ${d.status}`).join(", ");

/** The statuses of `ids`, in order (BatchGetItem through getJobItems). */
export async function dependencyStatuses(core: Core, ids: string[]): Promise<DependencyStatus[]> {
  const found = await getJobItems(core.db, ids);
  return ids.map((id) => ({ id, status: found.get(id)?.status ?? "MISSING" }));
}

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
      message: `Waiting for ${open.length} of ${deps.length} ${deps.length === 1 ? "dependency" : "dependencies"}: ${describe(open)}`,
    };
  }
  return { reason: "AWAITING_START", message: "Ready; waiting for an admin to start it" };
}

/**
 * The public view of several jobs with `waiting`: one batched read of the APPROVED jobs'
 * dependencies, then, for the ready ones, their place in a pool's queue (one admission snapshot
 * per GPU type that has pools).
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

/**
 * Cancels the open dependents of `ended` (a job that just ended REJECTED, FAILED or CANCELLED),
 * and theirs, transitively: breadth first, iterative, at most MAX_CASCADE jobs. Each is the normal
 * cancel transition (reservation released, history "dependency <id> ended <status>", actor
 * `system`), then its execution is told. A dependent that moved on meanwhile is fine: one that
 * ended unsuccessfully has its own dependents visited again (repairing a cascade a crash cut
 * short), a COMPLETED one cannot exist (it could not start), a RUNNING one (started before start
 * checked dependencies) is left to finish and logged. Best effort: failures are logged, not thrown;
 * the scheduled reconciler repairs what a crash leaves. Returns the ids it cancelled.
 */
export async function cancelDependentsOf(core: Core, ended: Pick<JobItem, "id" | "status">): Promise<string[]> {
  const cancelled: string[] = [];
  const queue: Pick<JobItem, "id" | "status">[] = [ended];
  const seen = new Set([ended.id]);
  while (queue.length) {
    const dependency = queue.shift()!;
    let dependents: string[];
    try {
      dependents = await listDependentIds(core.db, dependency.id);
    } catch (error) {
      core.log.warn("dependents not read; left for the reconciler", { jobId: dependency.id, error });
      continue;
    }
    for (const id of dependents) {
      if (seen.has(id)) continue;
      if (seen.size > MAX_CASCADE) {
        core.log.warn("cascade stopped at its bound; left for the reconciler", { jobId: ended.id, cancelled: cancelled.length });
        return cancelled;
      }
      seen.add(id);
      try {
        const result = await cancelOpenJob(core, id, `dependency ${dependency.id} ended ${dependency.status}`);
        await notifyWorkflow(core, result);
        cancelled.push(id);
        queue.push(result.job);
      } catch (error) {
        if (!(error instanceof InvalidTransitionError)) {
          core.log.warn("dependent not cancelled; left for the reconciler", { jobId: id, dependency: dependency.id, error });
        } else if (endedUnsuccessfully(error.currentStatus as JobStatus)) {
          queue.push({ id, status: error.currentStatus as JobStatus });
        } else if (error.currentStatus === "RUNNING") {
          core.log.warn("dependent is running although a dependency ended; left to finish", { jobId: id, dependency: dependency.id });
        }
      }
    }
  }
  if (cancelled.length) core.log.info("dependents cancelled", { jobId: ended.id, status: ended.status, cancelled });
  return cancelled;
}

/**
 * Cancels a PENDING or APPROVED job (no nested cascade). transitionJob reports a job that changed
 * status under it as InvalidTransitionError even when the new status may still be cancelled (an
 * approval won the race): then it is simply tried again.
 */
async function cancelOpenJob(core: Core, jobId: string, reason: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transitionJob(core, jobId, {
        action: "cancel",
        from: ["PENDING", "APPROVED"],
        to: "CANCELLED",
        actor: SYSTEM_ACTOR,
        reason,
        cascade: false,
      });
    } catch (error) {
      const stillOpen = error instanceof InvalidTransitionError && ["PENDING", "APPROVED"].includes(error.currentStatus);
      if (!stillOpen || attempt >= 5) throw error;
    }
  }
}
