/** Job dependencies: a job starts only once every job in its `dependsOn` is COMPLETED (a condition
 * of the start transaction) and their statuses. What follows when a dependency ends is a reaction:
 * cascade.ts cancels the dependents of an unsuccessful one, admission/readiness.ts queues those of
 * a completed one. Submission's checks live in submit.ts; "why is it waiting" in views.ts. */
import type { Core } from "../core";
import type { CancellationReason, TransactItem } from "../db/transact";
import { DependenciesNotMetError } from "../errors";
import type { JobItem, JobStatus } from "./job";
import { dependencyCompletedCheck, getJobItems } from "./store";

/** A dependency and its status ("MISSING" for one that no longer exists). */
export interface DependencyStatus {
  id: string;
  status: JobStatus | "MISSING";
}

export const dependencyIds = (job: Pick<JobItem, "dependsOn">): string[] => job.dependsOn ?? [];

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
      return new DependenciesNotMetError(
        `Cannot start job ${job.id}: ${describeDependencies(unmet)} (every dependency must be COMPLETED)`,
        unmet,
      );
    },
  });
}

export const describeDependencies = (deps: DependencyStatus[]) => deps.map((d) => `${d.id} is ${d.status}`).join(", ");

/** The statuses of `ids`, in order (BatchGetItem through getJobItems). */
export async function dependencyStatuses(core: Core, ids: string[], consistent = false): Promise<DependencyStatus[]> {
  const found = await getJobItems(core.db, ids, consistent);
  return ids.map((id) => ({ id, status: found.get(id)?.status ?? "MISSING" }));
}
