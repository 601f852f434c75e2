/** Scheduled every 5 minutes (infra/schedules.ts): repairs what a crash left behind (dependents of
 * failed jobs, open jobs without an execution, approved jobs beside free capacity) and logs it. */
import { reconcile } from "@gpuaas/core/schedules";
import { lambdaCore } from "../linked";

export const handler = async (_event: unknown, context?: { awsRequestId?: string }) => {
  const core = lambdaCore();
  return reconcile({ ...core, log: core.log.child({ requestId: context?.awsRequestId }) });
};
