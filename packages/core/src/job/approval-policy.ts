/** The auto-approve policy (SPEC §5): small non-sensitive jobs need no admin. The submission applies
 * it in its own transaction (submit.ts: the job is written APPROVED, with its submission and its
 * approval in the history), so an auto-approved job joins its queue at once; the workflow's
 * ApplyApprovalPolicy step applies it too, for jobs submitted before the policy changed. */
import type { Core } from "../core";
import { hoursToMilli } from "../util/hours";
import type { JobItem } from "./job";

/** Whether the auto-approve policy approves `job` without an admin. Sensitive jobs never. */
export function autoApproves(core: Core, job: Pick<JobItem, "sensitive" | "reservedMilli">): boolean {
  const max = core.config.autoApproveMaxGpuHours;
  return max > 0 && !job.sensitive && job.reservedMilli <= hoursToMilli(max);
}

/** The reason its approval event records. */
export const autoApprovalReason = (core: Core) =>
  `auto-approved: not sensitive and at most ${core.config.autoApproveMaxGpuHours} GPU-hours`;
