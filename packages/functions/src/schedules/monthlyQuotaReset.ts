/** Scheduled Lambda (EventBridge cron, 00:00 UTC on the 1st): opens the new month's quotas and
 * carries open jobs' reservations into it. A run that nears the Lambda's timeout stops cleanly;
 * the next scheduled run (every 15 minutes on the 1st, infra/schedules.ts) continues from the
 * recorded progress, as would POST /admin/quotas/reset. */
import { resetQuotas } from "@gpuaas/core/schedules";
import { lambdaCore } from "../linked";

/** Left for recording progress and logging before the Lambda's own timeout. */
const SAFETY_MARGIN_MS = 30_000;

export async function handler(_event: unknown, context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number }) {
  const core = lambdaCore();
  const log = core.log.child({ requestId: context?.awsRequestId });
  const remaining = context?.getRemainingTimeInMillis?.();
  const result = await resetQuotas(
    { ...core, log },
    { timeBudgetMs: remaining === undefined ? undefined : Math.max(1000, remaining - SAFETY_MARGIN_MS) },
  );
  if (!result.done) log.warn("quota reset not finished in this run; the next scheduled run continues it", { ...result });
  return result;
}
