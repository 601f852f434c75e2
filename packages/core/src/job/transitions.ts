/** Lifecycle transitions: every status change is ONE conditional TransactWriteItems holding the job
 * update (status, status-index key, timestamps), its history event and the quota effect, so two
 * racing writers can never both win and quota never drifts from the jobs. A transition is a
 * command about its own job: what it means for others (admission, dependents, the job's workflow
 * execution, budget alerts) is a reaction to the committed change (reactions/). */

import { capacityReleaseItems } from "../admission/capacity";
import { queueIndexItems } from "../admission/queue";
import type { Core } from "../core";
import { usageDayItems } from "../cost/usage";
import { type CancellationReason, type TransactItem, Transaction, TransactionCancelled, transactWrite } from "../db/transact";
import { ContentionError, NotFoundError } from "../errors";
import { orgSpendSettlementItems } from "../org/budget";
import { closeJobItem, settleQuotaItem } from "../quota/store";
import { hoursToMilli, type MilliHours } from "../util/hours";
import { isId } from "../util/id";
import { costMicros } from "../util/money";
import { InvalidTransitionError } from "./errors";
import type { JobItem, JobStatus } from "./job";
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
   * Extra conditions the write must pass, built from the job as read and the transition's time:
   * items appended to the transaction (after the job's own items), and the error to throw when any
   * failed, given each one's cancellation in order (e.g. start: every dependency COMPLETED,
   * dependencies.ts, and the capacity take, admission/capacity.ts).
   */
  conditions?: (job: JobItem, at: string) => { items: TransactItem[]; error: (failed: (CancellationReason | undefined)[]) => Error };
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
 * ContentionError. Optimistic: the write is conditional on the status and quota period that were
 * read (a token parked meanwhile is answered all the same: store.ts updateJobStatusItem), and a lost
 * race on the period alone (a monthly reset meanwhile) is re-read and retried.
 */
export async function transitionJob(core: Core, jobId: string, request: TransitionRequest): Promise<TransitionResult> {
  if (!isId(jobId)) throw new NotFoundError(`Job ${jobId} not found`);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const before = await getJobItem(core.db, jobId, true);
    if (!before) throw new NotFoundError(`Job ${jobId} not found`);
    request.guard?.(before);
    if (!request.from.includes(before.status)) throw invalidTransition(request.action, before.status);

    const at = core.now().toISOString();
    const { job: jobUpdate, rest, changes } = transitionItems(core, before, request, at);
    const conditions = request.conditions?.(before, at);
    const tx = new Transaction()
      .add("job", jobUpdate)
      .add("effects", ...rest)
      .add("release", ...capacityReleaseItems(core, before, request.to, at))
      .add("conditions", ...(conditions?.items ?? []));
    try {
      await transactWrite(core.db, tx);
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      const jobCondition = error.failed("job");
      if (!jobCondition) {
        const failed = error.failedEach("conditions");
        if (conditions && failed.some(Boolean)) throw conditions.error(failed);
        // The pool saw a capacity change later than `at` (another writer's clock): again, with a fresh time.
        if (error.failed("release")) continue;
        throw error;
      }
      const current = jobCondition.item as JobItem | undefined;
      if (!current) throw new NotFoundError(`Job ${jobId} not found`);
      if (current.status !== before.status) throw invalidTransition(request.action, current.status);
      continue; // same status, but its quota period changed under us: read again
    }
    const job: JobItem = { ...before, ...changes, status: request.to, updatedAt: at };
    delete job.taskToken;
    return { before, job };
  }
  throw new ContentionError(`Job ${jobId} kept changing; please retry`);
}

/** The transaction items of `before`'s transition at `at` (job, event, quota, usage, spend, queue
 * index; not the capacity release or the request's conditions), and the attributes it sets. */
function transitionItems(core: Core, before: JobItem, request: TransitionRequest, at: string) {
  const { changes, quota } = effects(core, before, request, at);
  const job = updateJobStatusItem(core.db, before, request.to, changes, at);
  const rest: TransactItem[] = [
    putJobEventItem(core.db, jobEventItem({ jobId: before.id, status: request.to, actor: request.actor, reason: request.reason, at })),
    ...(quota ? [quota, closeJobItem(core.db, before.ownerId)] : []),
    ...usageDayItems(core, before, changes, at),
    ...orgSpendSettlementItems(core, before, changes, at),
    ...queueIndexItems(core.db, before, request.to, changes),
  ];
  return { job, rest, changes };
}

/** Items a transition of one job writes, at most (job, event, quota, open-job count, usage day, spend, 3 queue entries): for batching. */
export const MAX_TRANSITION_ITEMS = 9;

/**
 * Several jobs' transitions, each as read in `moves[i].before`, in ONE transaction with `extra(at)`
 * (e.g. one capacity take for all of them). All or nothing: every job must still be as read (its
 * status and quota period; a token parked meanwhile is answered too); on any failed condition TransactionCancelled propagates
 * and nothing is written (callers then go one by one with transitionJob, which re-reads and
 * explains). Requests' `guard` and `conditions` are not supported here, nor final states (an ending
 * writes its owner's items). Returns the jobs as written.
 */
export async function transitionJobsTogether(
  core: Core,
  moves: readonly { before: JobItem; request: Omit<TransitionRequest, "guard" | "conditions"> }[],
  extra: (at: string) => TransactItem[],
): Promise<JobItem[]> {
  for (const { before, request } of moves) {
    if (!request.from.includes(before.status)) throw invalidTransition(request.action, before.status);
    // An ending settles its owner's quota month and open-job count: two endings of one owner would
    // be two writes of one item, which DynamoDB refuses in one transaction. Only starts go together.
    if (TERMINAL.includes(request.to))
      throw new Error(`transitionJobsTogether moves jobs towards non-final states only, not ${request.to}`);
  }
  const at = core.now().toISOString();
  const built = moves.map(({ before, request }) => ({ before, request, ...transitionItems(core, before, request, at) }));
  await transactWrite(core.db, [...built.flatMap((b) => [b.job, ...b.rest]), ...extra(at)]);
  return built.map(({ before, request, changes }) => {
    const job: JobItem = { ...before, ...changes, status: request.to, updatedAt: at };
    delete job.taskToken;
    return job;
  });
}

/** The job attributes and the quota item a transition writes. */
function effects(core: Core, job: JobItem, request: TransitionRequest, at: string) {
  // Who moved it, and the token answered (the reaction that tells the execution reads both from the change).
  const changes: Partial<JobItem> = {
    ...request.details,
    updatedBy: request.actor,
    ...(job.taskToken ? { answeredToken: job.taskToken } : {}),
  };
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
  const price = job.provider ? core.catalog.price(job.gpuType, job.provider) : core.catalog.cheapest(job.gpuType)?.pricePerGpuHourMicros;
  return price ?? 0;
}
