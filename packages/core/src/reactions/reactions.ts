/** What a committed change calls for, as a pure function of the stream record (the item before and
 * after, NEW_AND_OLD_IMAGES): the reactions of SPEC §10. Commands only commit their own subject;
 * everything they mean for other jobs, pools, teams and the job's workflow execution is decided
 * here and run by react.ts, from the table's stream in AWS and locally alike. */

import { queueKeys } from "../admission/keys";
import type { GpuType } from "../catalog/catalog";
import { type ChangeRecord, recordImage, recordType } from "../event/event";
import { endedUnsuccessfully, isOpen, type JobStatus } from "../job/job";
import { WORKFLOW_ACTOR } from "../job/transitions";

export type Reaction =
  /** A new job: start its lifecycle execution (idempotent by execution name). */
  | { kind: "startExecution"; jobId: string }
  /** The job moved on while its execution was parked on `token`: answer it with the new status. */
  | { kind: "answerTask"; jobId: string; token: string; status: JobStatus }
  /** A running job was ended by someone other than its execution: stop the simulated run. */
  | { kind: "stopExecution"; jobId: string; status: JobStatus }
  /** Run an admission pass for the GPU type (room freed, a job queued, a pool added or grown). */
  | { kind: "admit"; gpuType: GpuType; alsoPools: string[] }
  /** An approved job with dependencies: queue it for admission if they are all COMPLETED already. */
  | { kind: "promoteIfReady"; jobId: string }
  /** A job COMPLETED: queue its approved dependents that are now ready. */
  | { kind: "promoteDependents"; jobId: string }
  /** A job ended REJECTED, FAILED or CANCELLED: cancel its open dependents. */
  | { kind: "cancelDependents"; jobId: string; status: JobStatus }
  /** An org's month spend (or budget) changed: record the thresholds it reached. */
  | { kind: "budgetAlerts"; orgId: string; period: string };

// biome-ignore lint/suspicious/noExplicitAny: a stream image: any item type's attributes, read by name
type Item = Record<string, any>;

/** The item types whose changes call for reactions; every other record is skipped unread. */
const REACTING = new Set(["Job", "QueueEntry", "Cluster", "OrgSpend"]);

/** The reactions one stream record calls for (none for most items). */
export function reactionsTo(record: ChangeRecord): Reaction[] {
  const type = recordType(record);
  if (!type || !REACTING.has(type)) return [];
  const before = recordImage(record.dynamodb?.OldImage);
  const after = recordImage(record.dynamodb?.NewImage);
  switch (type) {
    case "Job":
      return jobReactions(before, after);
    case "QueueEntry":
      // A job joined the head part of its queue (approved, or its dependencies completed).
      return !before && after && String(after.sk).startsWith(queueKeys.waitingPrefix)
        ? [{ kind: "admit", gpuType: after.gpuType, alsoPools: [] }]
        : [];
    case "Cluster":
      return clusterReactions(before, after);
    case "OrgSpend":
      return after && (!before || before.committedMicros !== after.committedMicros || before.budgetMicros !== after.budgetMicros)
        ? [{ kind: "budgetAlerts", orgId: after.orgId, period: after.period }]
        : [];
    default:
      return [];
  }
}

function jobReactions(before?: Item, after?: Item): Reaction[] {
  if (!after) return [];
  const jobId: string = after.id;
  // A new job (written APPROVED by the auto-approve policy when it covers it: then queued as an approval is).
  if (!before)
    return [
      { kind: "startExecution", jobId },
      ...(after.status === "APPROVED" && after.dependsOn?.length ? [{ kind: "promoteIfReady" as const, jobId }] : []),
    ];
  const from = before.status as JobStatus;
  const to = after.status as JobStatus;
  if (from === to) return [];
  const out: Reaction[] = [];
  if (before.taskToken) out.push({ kind: "answerTask", jobId, token: before.taskToken, status: to });
  else if (from === "RUNNING" && after.updatedBy !== WORKFLOW_ACTOR) out.push({ kind: "stopExecution", jobId, status: to });
  else if (isOpen(to)) out.push({ kind: "startExecution", jobId });
  if (to === "APPROVED" && after.dependsOn?.length) out.push({ kind: "promoteIfReady", jobId });
  // A waiting job left (cancelled or expired): the head it was may have held backfill back.
  if (from === "APPROVED" && to !== "RUNNING") out.push({ kind: "admit", gpuType: after.gpuType, alsoPools: [] });
  if (to === "COMPLETED") out.push({ kind: "promoteDependents", jobId });
  if (endedUnsuccessfully(to)) out.push({ kind: "cancelDependents", jobId, status: to });
  return out;
}

const RESOURCES = ["availableGpus", "availableCpu", "availableRamGb"] as const;

function clusterReactions(before?: Item, after?: Item): Reaction[] {
  if (!after) return [];
  // A new pool (named: the pool index may not show it yet), room freed or added, drained or undrained.
  if (!before) return [{ kind: "admit", gpuType: after.gpuType, alsoPools: [after.id] }];
  const more = RESOURCES.some((r) => Number(after[r]) > Number(before[r]));
  // Drained or undrained: admission changes, and the plan the views read describes the pool anew.
  return more || before.draining !== after.draining ? [{ kind: "admit", gpuType: after.gpuType, alsoPools: [] }] : [];
}
