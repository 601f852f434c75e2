/** What admins and owners do to a job: approve, reject, start, complete, fail, cancel. Each is one
 * conditional transition in DynamoDB (the truth) and answers; telling the job's workflow execution,
 * admission and the dependents follow as reactions to the committed change (reactions/). */
import * as z from "zod";
import { PoolTakenMeanwhile, placeForStart, startOnPlacement, withCapacityTake } from "../admission/capacity";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { ForbiddenError, NoCapacityError, NotFoundError } from "../errors";
import { parseInput } from "../util/fn";
import { isId } from "../util/id";
import { plainLines } from "../util/text";
import { dependenciesCompleted } from "./dependencies";
import type { JobItem } from "./job";
import { getJobItem } from "./store";
import { invalidTransition, type TransitionRequest, transitionJob } from "./transitions";
import { jobView } from "./views";

const Reason = plainLines(z.string().trim().min(1, "must not be empty").max(1000));

/** Body of approve, start, complete and cancel: an optional note for the job's history. */
export const NoteInput = z.strictObject({ reason: Reason.optional() }).default({});
export const RejectInput = z.strictObject({ reason: Reason });
export const FailInput = z.strictObject({ errorMessage: plainLines(z.string().trim().min(1, "must not be empty").max(2000)) });

function assertAdmin(actor: Actor) {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
}

async function act(core: Core, jobId: string, request: TransitionRequest) {
  const { job } = await transitionJob(core, jobId, request);
  return jobView(core, job);
}

/**
 * PENDING → APPROVED (admin). Answers APPROVED with why it waits; admission (a reaction to the
 * approval) starts it within moments when a pool has room.
 */
export async function approveJob(core: Core, actor: Actor, jobId: string, body?: unknown) {
  assertAdmin(actor);
  const { reason } = parseInput(NoteInput, body);
  return act(core, jobId, { action: "approve", from: ["PENDING"], to: "APPROVED", actor: actor.userId, reason: reason ?? "approved" });
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
        conditions: (read, at) => withCapacityTake(dependenciesCompleted(core)(read), placement.items(at)),
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
