/** Scheduled Lambdas on EventBridge Scheduler (SST CronV2, UTC). */
import { QUOTA_RESET_HANDLER } from "@gpuaas/functions/handlers";
import { jwtSecret } from "./secrets";
import { table } from "./storage";

/** 00:00 UTC on the 1st: open the new month's quotas, carrying open jobs' reservations. */
export const monthlyQuotaReset = new sst.aws.CronV2("MonthlyQuotaReset", {
  schedule: "cron(0 0 1 * ? *)",
  function: {
    handler: QUOTA_RESET_HANDLER,
    description: "Monthly quota reset (opens the month, carries open jobs' reservations)",
    link: [table, jwtSecret],
    // A run stops 30 s before this with its progress recorded and fails, so a retry continues.
    timeout: "15 minutes",
  },
  retries: 20,
});
