/** Lifecycle transitions: every status change is ONE conditional TransactWriteItems holding the job
 * update (status, status-index key, timestamps), its history event and the quota effect, so two
 * racing writers can never both win and quota never drifts from the jobs. */
import type { Core } from "../core";
import { TransactionCancelled, transactWrite, type CancellationReason, type TransactItem } from "../db/transact";
import { ContentionError, InvalidTransitionError, NotFoundError } from "../errors";
import { usageDayItems } from "../cost/usage";
import { orgSpendSettlementItems } from "../org/budget";
import { settleQuotaItem } from "../quota/store";
import { hoursToMilli, type MilliHours } from "../util/hours";
import { isId } from "../util/id";
import { costMicros } from "../util/money";
import { capacityReleaseItems } from "../admission/capacity";
import { queueIndexItems } from "../admission/queue";
import { admitAfterTransition } from "../admission/engine";
import { cancelDependentsOf } from "./dependencies";
import { endedUnsuccessfully, type JobItem, type JobStatus } from "./job";
import { getJobItem, jobEventItem, putJobEventItem, updateJobStatusItem } from "./store";

/** Who did it, when it was not a user: the approval policy or the state machine. */
export const SYSTEM_ACTOR = "system";
export const WORKFLOW_ACTOR = "workflow";

export interface TransitionRequest {
  /** The action, for messages: "approve", "cancel", ... */
  action: string;
  from: readonly JobStatus[];
  to: JobStatus;
  /** A user id, SYSTEM_ACTOR or WORKFLOW_ACTOR. */
  actor: string;
  reason?: string;
  /** Extra attributes the transition records (rejectionReason, errorMessage; the pool and price at admission). */
  details?: Partial<Pick<JobItem, "rejectionReason" | "errorMessage" | "clusterId" | "provider" | "pricePerGpuHourMicros" | "allocation">>;
  /**
   * How long a RUNNING job ran: "elapsed" wall-clock time scaled back to simulated hours (an admin
   * or owner ending it early), or its "full" estimate (the simulated run reached its end).
   */
  runtime?: "elapsed" | "full";
  /** Runs on the job as read, before anything is written (e.g. an ownership check). */
  guard?: (job: JobItem) => void;
  /**
   * Extra conditions the write must pass, built from the job as read: ConditionChecks appended to
   * the transaction (after the job's own items), and the error to throw when any failed, given
   * each check's cancellation in order (e.g. start: every dependency COMPLETED, dependencies.ts).
   */
  conditions?: (job: JobItem) => { items: TransactItem[]; error: (failed: (CancellationReason | undefined)[]) => Error };
  /** false: do not cancel the dependents of a job this ends unsuccessfully (cancelDependentsOf's own cancels). */
  cascade?: false;
}

export interface TransitionResult {
  /** The job as it was read, with the task token that was parked on it (if any). */
  before: JobItem;
  /** The job as written. */
  job: JobItem;
}

const TERMINAL: readonly JobStatus[] = ["REJECTED", "COMPLETED", "FAILED", "CANCELLED"];
const MAX_ATTEMPTS = 5;

export const invalidTransition = (action: string, status: JobStatus) =>
  new InvalidTransitionError(`Cannot ${action} a job that is ${status}`, status);

/**
 * Moves job `jobId` along `request`. Throws NotFoundError (no such job), InvalidTransitionError
 * with the job's real current status (not in `from`, or another writer won the race) or
 * ContentionError. Optimistic: the write is conditional on the status, quota period and parked
 * task token that were read, and a lost race on the token alone (a workflow state parking it
 * meanwhile) is re-read and retried.
 */
export async function transitionJob(core: Core, jobId: string, request: TransitionRequest): Promise<TransitionResult> {
  if (!isId(jobId)) throw new NotFoundError(`Job ${jobId} not found`);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const before = await getJobItem(core.db, jobId, true);
    if (!before) throw new NotFoundError(`Job ${jobId} not found`);
    request.guard?.(before);
    if (!request.from.includes(before.status)) throw invalidTransition(request.action, before.status);

    const at = core.now().toISOString();
    const { changes, quota } = effects(core, before, request, at);
    const items: TransactItem[] = [
      updateJobStatusItem(core.db, before, request.to, changes, at),
      putJobEventItem(
        core.db,
        jobEventItem({ jobId, status: request.to, actor: request.actor, reason: request.reason, at }),
      ),
      ...(quota ? [quota] : []),
      ...usageDayItems(core, before, changes, at),
      ...orgSpendSettlementItems(core, before, changes, at),
      ...capacityReleaseItems(core, before, request.to),
      ...queueIndexItems(core.db, before, request.to, changes),
    ];
    const conditions = request.conditions?.(before);
    const firstCondition = items.length;
    if (conditions) items.push(...conditions.items);
    try {
      await transactWrite(core.db, items);
    } catch (error) {
      const jobCondition = error instanceof TransactionCancelled ? error.failedAt(0) : undefined;
      if (!jobCondition && conditions && error instanceof TransactionCancelled) {
        const failed = conditions.items.map((_, i) => error.failedAt(firstCondition + i));
        if (failed.some(Boolean)) throw conditions.error(failed);
      }
      if (!jobCondition) throw error;
      const current = jobCondition.item as JobItem | undefined;
      if (!current) throw new NotFoundError(`Job ${jobId} not found`);
      if (current.status !== before.status) throw invalidTransition(request.action, current.status);
      continue; // same status, but its task token or quota period changed under us: read again
    }
    const job: JobItem = { ...before, ...changes, status: request.to, updatedAt: at };
    delete job.taskToken;
    // After the commit, best effort (logged inside): a job that can no longer complete takes its dependents with it.
    if (request.cascade !== false && endedUnsuccessfully(job.status)) await cancelDependentsOf(core, job);
    // Then admission, best effort (logged inside): a job approved, room freed, a waiting job gone, dependents unblocked.
    if (request.cascade !== false) await admitAfterTransition(core, before, job);
    return { before, job };
  }
  throw new ContentionError(`Job ${jobId} kept changing; please retry`);
}

/** The job attributes and the quota item a transition writes. */
function effects(core: Core, job: JobItem, request: TransitionRequest, at: string) {
  const changes: Partial<JobItem> = { ...request.details };
  if (request.to === "APPROVED") Object.assign(changes, { approvedAt: at, approvedBy: request.actor });
  if (request.to === "RUNNING") changes.startedAt = at;
  if (!TERMINAL.includes(request.to)) return { changes, quota: undefined };

  changes.finishedAt = at;
  let usedMilli: MilliHours = 0;
  if (job.status === "RUNNING") {
    const runMilli = runMilliHours(core, job, at, request.runtime ?? "elapsed");
    usedMilli = job.gpuCount * runMilli;
    Object.assign(changes, { usedMilli, actualCostMicros: costMicros(priceOf(core, job), job.gpuCount, runMilli) });
  }
  // Closed before it ran: the reservation goes back in full. Closed after: settled to what it used.
  const quota = settleQuotaItem(core.db, {
    userId: job.ownerId,
    period: job.quotaPeriod,
    reservedMilli: job.reservedMilli,
    usedMilli,
    at,
  });
  return { changes, quota };
}

/**
 * Simulated hours a running job has run by `at` (in milli-hours): wall-clock time divided by
 * SIMULATION_SECONDS_PER_HOUR, never more than its estimate. With a factor of 0 the simulated run
 * is instantaneous, so it has always run its full estimate.
 */
export function runMilliHours(core: Core, job: JobItem, at: string, runtime: "elapsed" | "full"): MilliHours {
  const estimate = hoursToMilli(job.estimatedHours);
  const secondsPerHour = core.config.simulation.secondsPerGpuHour;
  if (runtime === "full" || secondsPerHour === 0 || !job.startedAt) return estimate;
  const elapsedMs = Math.max(0, Date.parse(at) - Date.parse(job.startedAt));
  // hours = ms / 1000 / secondsPerHour, so milli-hours = ms / secondsPerHour
  return Math.min(estimate, Math.floor(elapsedMs / secondsPerHour));
}

function priceOf(core: Core, job: JobItem): number {
  if (job.pricePerGpuHourMicros !== undefined) return job.pricePerGpuHourMicros;
  // Jobs submitted before the price was stored on them: today's catalog price.
  const price = job.provider
    ? core.catalog.price(job.gpuType, job.provider)
    : core.catalog.cheapest(job.gpuType)?.pricePerGpuHourMicros;
  return price ?? 0;
}
