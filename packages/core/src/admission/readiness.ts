/** Readiness: an APPROVED job with dependencies waits in its queue's HOLD# part until every
 * dependency is COMPLETED; then it is moved to WAIT#, in admission order, where passes see it.
 * Run as reactions (a job approved, a dependency completed) and by the reconciler. The start
 * transaction still checks every dependency, so an entry promoted early could never start a job. */
import type { Core } from "../core";
import { TransactionCancelled, transactWrite } from "../db/transact";
import { dependencyIds, dependencyStatuses } from "../job/dependencies";
import type { JobItem } from "../job/job";
import { getJobItem, getJobItems, listDependentIds } from "../job/store";
import { promoteItems } from "./queue";

/** Whether every dependency of `job` is COMPLETED (consistent reads). */
export async function dependenciesDone(core: Core, job: Pick<JobItem, "dependsOn">): Promise<boolean> {
  const ids = dependencyIds(job);
  return !ids.length || (await dependencyStatuses(core, ids, true)).every((d) => d.status === "COMPLETED");
}

/** Queues `job` (APPROVED, with dependencies) for admission when they are all COMPLETED. Idempotent. */
export async function promoteIfReady(core: Core, job: JobItem): Promise<boolean> {
  if (job.status !== "APPROVED" || !dependencyIds(job).length || !(await dependenciesDone(core, job))) return false;
  try {
    await transactWrite(core.db, promoteItems(core.db, job));
    return true;
  } catch (error) {
    // It left APPROVED meanwhile: nothing to queue.
    if (error instanceof TransactionCancelled) return false;
    throw error;
  }
}

/** After `jobId` COMPLETED: queues each of its APPROVED dependents whose dependencies are now all done. */
export async function promoteDependentsOf(core: Core, jobId: string): Promise<string[]> {
  const ids = await listDependentIds(core.db, jobId);
  if (!ids.length) return [];
  const dependents = await getJobItems(core.db, ids, true);
  const promoted: string[] = [];
  for (const job of dependents.values()) if (await promoteIfReady(core, job)) promoted.push(job.id);
  return promoted;
}

/** promoteIfReady for a job known by id. */
export async function promoteJobIfReady(core: Core, jobId: string): Promise<boolean> {
  const job = await getJobItem(core.db, jobId, true);
  return job ? promoteIfReady(core, job) : false;
}
