/** Scheduled Lambdas on EventBridge Scheduler (SST CronV2, UTC). */
import { DAILY_COST_ROLLUP_HANDLER, QUOTA_RESET_HANDLER } from "@gpuaas/functions/handlers";
import { jwtSecret } from "./secrets";
import { table } from "./storage";

/** 00:05 UTC every day: roll up the day that just ended (a few minutes' grace for runs ending at midnight). */
export const dailyCostRollup = new sst.aws.CronV2("DailyCostRollup", {
  schedule: "cron(5 0 * * ? *)",
  timezone: "UTC",
  // A failed run is retried; re-running a day replaces its snapshots, so a retry is harmless.
  retries: 2,
  function: {
    handler: DAILY_COST_ROLLUP_HANDLER,
    description: "Daily cost rollup of the previous UTC day",
    // The core reads its config (JWT secret included) the same way in every Lambda.
    link: [table, jwtSecret],
    timeout: "5 minutes",
  },
});

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
