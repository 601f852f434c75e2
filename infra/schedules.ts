/** Scheduled work (EventBridge Scheduler through SST's CronV2, times in UTC). */
import { DAILY_COST_ROLLUP_HANDLER } from "@gpuaas/functions/handlers";
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
