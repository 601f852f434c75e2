/** Scheduled shortly after 00:00 UTC (infra/schedules.ts): rolls up the previous UTC day's costs. */
import type { Core } from "@gpuaas/core";
import { rollupPreviousDay } from "@gpuaas/core/schedules";
import { lambdaCore } from "../linked";

/** The schedule's work, on any core (the Lambda's, or a test's). */
export async function runDailyCostRollup(core: Core) {
  const result = await rollupPreviousDay(core);
  core.log.info("daily cost rollup", { day: result.day, jobsRead: result.jobsRead, snapshots: result.snapshots.length });
  return { day: result.day, jobsRead: result.jobsRead, snapshots: result.snapshots.length };
}

export const handler = async (_event: unknown, context?: { awsRequestId?: string }) => {
  const core = lambdaCore();
  return runDailyCostRollup({ ...core, log: core.log.child({ requestId: context?.awsRequestId }) });
};
