/** What admins and owners do to a job: approve, reject, start, complete, fail, cancel. Each is a
 * conditional transition in DynamoDB (the truth), then a nudge to the job's workflow execution. */
import * as z from "zod";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { placeForStart, PoolTakenMeanwhile, startOnPlacement, withCapacityTake } from "../admission/capacity";
import { ForbiddenError, NoCapacityError, NotFoundError } from "../errors";
import { parseInput } from "../util/fn";
import { isId } from "../util/id";
import { dependenciesCompleted, jobView } from "./dependencies";
import { isOpen, type JobItem } from "./job";
import { getJobItem } from "./store";
import { invalidTransition, transitionJob, type TransitionRequest, type TransitionResult } from "./transitions";

const Reason = z.string().trim().min(1, "must not be empty").max(1000);

/** Body of approve, start, complete and cancel: an optional note for the job's history. */
export const NoteInput = z.strictObject({ reason: Reason.optional() }).default({});
export const RejectInput = z.strictObject({ reason: Reason });
export const FailInput = z.strictObject({ errorMessage: z.string().trim().min(1, "must not be empty").max(2000) });

function assertAdmin(actor: Actor) {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
}

/**
 * Tells the execution that the job moved on. A state parked on the job's task token is completed
 * with the new status; a running simulation is stopped (the job already ended); a job still open
 * with no token parked has its execution ensured (a no-op when it runs, a fresh start, routed by
 * the stored status, when its start at submission failed). Best effort: the stored job is the
 * truth, and an execution that missed this re-reads it (its recording steps are conditional, its
 * waits time out into a status check), so a failure here is logged, not thrown.
 */
export async function notifyWorkflow(core: Core, { before, job }: TransitionResult): Promise<void> {
  try {
    if (before.taskToken) {
      await core.workflow.sendTaskSuccess(before.taskToken, { jobId: job.id, status: job.status });
    } else if (before.status === "RUNNING") {
      await core.workflow.stop(job.id, `Job ${job.status} by ${job.status === "CANCELLED" ? "cancellation" : "an admin"}`);
    } else if (isOpen(job.status)) {
      await core.workflow.startJob(job.id);
    }
  } catch (error) {
    core.log.warn("workflow not notified", { jobId: job.id, status: job.status, error });
  }
}

async function act(core: Core, jobId: string, request: TransitionRequest) {
  const result = await transitionJob(core, jobId, request);
  await notifyWorkflow(core, result);
  return jobView(core, result.job);
}

/**
 * PENDING → APPROVED (admin). The approval triggers admission (transitionJob), so a job with room
 * on a pool may already be RUNNING: the answer is the job as it now is.
 */
export async function approveJob(core: Core, actor: Actor, jobId: string, body?: unknown) {
  assertAdmin(actor);
  const { reason } = parseInput(NoteInput, body);
  const result = await transitionJob(core, jobId, { action: "approve", from: ["PENDING"], to: "APPROVED", actor: actor.userId, reason: reason ?? "approved" });
  await notifyWorkflow(core, result);
  return jobView(core, (await getJobItem(core.db, jobId, true)) ?? result.job);
}

/** PENDING → REJECTED with a reason (admin); the reservation is released in full. */
export async function rejectJob(core: Core, actor: Actor, jobId: string, body: unknown) {
  assertAdmin(actor);
  const { reason } = parseInput(RejectInput, body);
  return act(core, jobId, {
    action: "reject",
    from: ["PENDING"],
    to: "REJECTED",
    actor: actor.userId,
    reason,
    details: { rejectionReason: reason },
  });
}

/**
 * APPROVED → RUNNING (admin); the simulated run starts now. Only when every dependency is
 * COMPLETED (checked in the same transaction), else DependenciesNotMetError and nothing changes.
 */
export async function startJob(core: Core, actor: Actor, jobId: string, body?: unknown) {
  assertAdmin(actor);
  const { reason } = parseInput(NoteInput, body);
  const job = isId(jobId) ? await getJobItem(core.db, jobId, true) : undefined;
  if (!job) throw new NotFoundError(`Job ${jobId} not found`);
  if (job.status !== "APPROVED") throw invalidTransition("start", job.status);
  // A manual admission: it still needs room on a pool (when pools exist for the job), taken in the
  // start transaction; a pool filled meanwhile is a new placement, a few times, then NO_CAPACITY.
  for (let attempt = 0; attempt < 5; attempt++) {
    const placement = startOnPlacement(core, await placeForStart(core, job), job);
    try {
      return await act(core, jobId, {
        action: "start",
        from: ["APPROVED"],
        to: "RUNNING",
        actor: actor.userId,
        reason: reason ?? (placement.details.clusterId ? `started on pool ${placement.details.clusterId}` : "started"),
        details: placement.details,
        conditions: (read) => withCapacityTake(dependenciesCompleted(core)(read), placement.items),
      });
    } catch (error) {
      if (!(error instanceof PoolTakenMeanwhile)) throw error;
    }
  }
  throw new NoCapacityError(`The pools for job ${jobId} kept filling up; retry when capacity frees`);
}

/** RUNNING → COMPLETED early (admin); settled to the simulated time it ran. */
export async function completeJob(core: Core, actor: Actor, jobId: string, body?: unknown) {
  assertAdmin(actor);
  const { reason } = parseInput(NoteInput, body);
  return act(core, jobId, {
    action: "complete",
    from: ["RUNNING"],
    to: "COMPLETED",
    actor: actor.userId,
    reason: reason ?? "completed by an admin",
    runtime: "elapsed",
  });
}

/** RUNNING → FAILED with an error message (admin); settled to the simulated time it ran. */
export async function failJob(core: Core, actor: Actor, jobId: string, body: unknown) {
  assertAdmin(actor);
  const { errorMessage } = parseInput(FailInput, body);
  return act(core, jobId, {
    action: "fail",
    from: ["RUNNING"],
    to: "FAILED",
    actor: actor.userId,
    reason: errorMessage,
    details: { errorMessage },
    runtime: "elapsed",
  });
}

/**
 * PENDING / APPROVED / RUNNING → CANCELLED by its owner (or an admin). Before the start the
 * reservation is released in full; while running it is settled to the time it ran.
 */
export async function cancelJob(core: Core, actor: Actor, jobId: string, body?: unknown) {
  const { reason } = parseInput(NoteInput, body);
  const guard = (job: JobItem) => {
    // Someone else's job is reported exactly like a missing one.
    if (actor.role !== "admin" && job.ownerId !== actor.userId) throw new NotFoundError(`Job ${jobId} not found`);
  };
  return act(core, jobId, {
    action: "cancel",
    from: ["PENDING", "APPROVED", "RUNNING"],
    to: "CANCELLED",
    actor: actor.userId,
    reason: reason ?? (actor.role === "admin" ? "cancelled by an admin" : "cancelled by its owner"),
    runtime: "elapsed",
    guard,
  });
}
