/** Cancelling the dependents of a job that ended REJECTED, FAILED or CANCELLED: a job that can no
 * longer complete takes the jobs waiting for it along. Run as a reaction to the dependency's
 * change (reactions/), and by the reconciler; each cancel is the normal cancel transition, whose
 * own change cancels the next level, so the cascade is transitive without ever holding a request. */
import type { Core } from "../core";
import { InvalidTransitionError } from "./errors";
import { endedUnsuccessfully, type JobItem } from "./job";
import { listDependentIds } from "./store";
import { SYSTEM_ACTOR, transitionJob } from "./transitions";

/**
 * Cancels the open (PENDING or APPROVED) jobs that name `ended` in their `dependsOn`, with the
 * reason `dependency <id> ended <STATUS>` (reservation released, actor `system`). A dependent that
 * moved on is fine: ended (nothing to do), RUNNING (started before the dependency ended, when an
 * admin's start did not need it: left to finish and logged). Idempotent. `transitive`: their
 * dependents too, and so on (the reactions do that level by level). Returns the ids it cancelled.
 */
export async function cancelDependentsOf(
  core: Core,
  ended: Pick<JobItem, "id" | "status">,
  options: { transitive?: boolean } = {},
): Promise<string[]> {
  const cancelled: string[] = [];
  // Transitive (the reconciler, which cannot count on the reactions): breadth first, bounded.
  const queue: Pick<JobItem, "id" | "status">[] = [ended];
  const seen = new Set([ended.id]);
  while (queue.length && seen.size <= MAX_TRANSITIVE) {
    const dependency = queue.shift()!;
    for (const id of await listDependentIds(core.db, dependency.id)) {
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        await cancelOpenJob(core, id, `dependency ${dependency.id} ended ${dependency.status}`);
        cancelled.push(id);
        if (options.transitive) queue.push({ id, status: "CANCELLED" });
      } catch (error) {
        if (!(error instanceof InvalidTransitionError)) throw error;
        if (options.transitive && endedUnsuccessfully(error.currentStatus)) queue.push({ id, status: error.currentStatus });
        if (error.currentStatus === "RUNNING")
          core.log.warn("dependent is running although a dependency ended; left to finish", { jobId: id, dependency: dependency.id });
      }
    }
  }
  if (cancelled.length) core.log.info("dependents cancelled", { jobId: ended.id, status: ended.status, cancelled });
  return cancelled;
}

/** A transitive cascade visits at most this many jobs; the next reconciler run goes on. */
const MAX_TRANSITIVE = 1000;

/**
 * Cancels a PENDING or APPROVED job. transitionJob reports a job that changed status under it as
 * InvalidTransitionError even when the new status may still be cancelled (an approval won the
 * race): then it is simply tried again.
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
      });
    } catch (error) {
      const stillOpen = error instanceof InvalidTransitionError && ["PENDING", "APPROVED"].includes(error.currentStatus);
      if (!stillOpen || attempt >= 5) throw error;
    }
  }
}
