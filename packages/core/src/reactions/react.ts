/** Runs the reactions of a batch of stream records (reactions.ts): the same code for the stream
 * consumer Lambda in AWS and the local stack's stream reader (the reconciler repairs with the same
 * functions the reactions call). Every
 * reaction is idempotent — the same record twice changes nothing more — so a batch that fails is
 * simply delivered again. Admissions are coalesced: one pass per GPU type for the whole batch,
 * through the process's admission loop (one pass per type at a time). */
import { requestAdmission } from "../admission/loop";
import { promoteDependentsOf, promoteJobIfReady } from "../admission/readiness";
import type { GpuType } from "../catalog/catalog";
import type { Core } from "../core";
import type { ChangeRecord } from "../event/event";
import { cancelDependentsOf } from "../job/cascade";
import { recordBudgetAlerts } from "../org/budget";
import { ExecutionEndedError, TaskNotWaitingError } from "../workflow/port";
import { type Reaction, reactionsTo } from "./reactions";

export interface BatchOutcome {
  /** Index of the first record whose reactions failed (the ones before it are done); undefined: all done. */
  firstFailed?: number;
}

/** The reactions of `records`, in order; admissions of the batch run once per GPU type, after the rest. */
export async function react(core: Core, records: readonly ChangeRecord[]): Promise<BatchOutcome> {
  const admit = new Map<GpuType, Set<string>>();
  let firstFailed: number | undefined;
  for (const [index, record] of records.entries()) {
    let reactions: Reaction[];
    try {
      reactions = reactionsTo(record);
    } catch (error) {
      // A record that cannot be read never will be: delivering it again would only hold the shard.
      core.log.error("stream record skipped: it cannot be read", { error, sequence: record.dynamodb?.SequenceNumber });
      continue;
    }
    const others = reactions.filter((r) => r.kind !== "admit");
    for (const r of reactions)
      if (r.kind === "admit") {
        const pools = admit.get(r.gpuType) ?? new Set<string>();
        for (const p of r.alsoPools) pools.add(p);
        admit.set(r.gpuType, pools);
      }
    const results = await Promise.allSettled(others.map((r) => run(core, r)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed && firstFailed === undefined) {
      firstFailed = index;
      core.log.warn("reaction failed; the record is delivered again", { error: failed.reason, reactions: others.map((r) => r.kind) });
      break;
    }
  }
  const passes = await Promise.allSettled([...admit].map(([gpuType, pools]) => requestAdmission(core, gpuType, [...pools])));
  const failedPass = passes.find((p): p is PromiseRejectedResult => p.status === "rejected");
  if (failedPass) {
    core.log.warn("admission pass failed; the batch is delivered again", { error: failedPass.reason });
    firstFailed ??= 0;
  }
  return { firstFailed };
}

/** Runs one reaction (not admission: react() coalesces those). */
export async function run(core: Core, reaction: Reaction): Promise<void> {
  switch (reaction.kind) {
    case "startExecution":
      try {
        await core.workflow.startJob(reaction.jobId);
      } catch (error) {
        // A record seen again after its job's execution ended (its name cannot be reused): nothing
        // to start, and failing would hold the batch until the dead-letter queue. An open job left
        // without a running execution is the reconciler's to close.
        if (!(error instanceof ExecutionEndedError)) throw error;
        core.log.warn("execution already ended; not started again", { jobId: reaction.jobId, error: error.message });
      }
      return;
    case "answerTask":
      try {
        await core.workflow.sendTaskSuccess(reaction.token, { jobId: reaction.jobId, status: reaction.status });
      } catch (error) {
        // Answered already (a record seen twice), or its execution is gone: nothing to tell.
        if (!(error instanceof TaskNotWaitingError)) throw error;
      }
      return;
    case "stopExecution":
      return core.workflow.stop(
        reaction.jobId,
        `Job ${reaction.status} by ${reaction.status === "CANCELLED" ? "cancellation" : "an admin"}`,
      );
    case "promoteIfReady":
      await promoteJobIfReady(core, reaction.jobId);
      return;
    case "promoteDependents":
      await promoteDependentsOf(core, reaction.jobId);
      return;
    case "cancelDependents":
      await cancelDependentsOf(core, { id: reaction.jobId, status: reaction.status });
      return;
    case "budgetAlerts":
      return recordBudgetAlerts(core, reaction.orgId, reaction.period);
    case "admit":
      await requestAdmission(core, reaction.gpuType, reaction.alsoPools);
      return;
  }
}
