/** Scheduled Lambdas on EventBridge Scheduler (SST CronV2, UTC). */
import { DAILY_COST_ROLLUP_HANDLER, QUOTA_RESET_HANDLER, RECONCILER_HANDLER } from "../packages/functions/src/handlers";
import { RESERVED_CONCURRENCY } from "./defaults";
import { table, tableAccess } from "./storage";
import { jobWorkflow } from "./workflow";

/** 00:05 UTC every day: roll up the day that just ended (a few minutes' grace for runs ending at midnight). */
export const dailyCostRollup = new sst.aws.CronV2("DailyCostRollup", {
  schedule: "cron(5 0 * * ? *)",
  timezone: "UTC",
  // Retries of a delivery EventBridge Scheduler could not make (a failed run gets Lambda's own two
  // asynchronous retries); re-running a day replaces its snapshots, so any rerun is harmless.
  retries: 2,
  function: {
    handler: DAILY_COST_ROLLUP_HANDLER,
    description: "Daily cost rollup of the previous UTC day",
    link: [table],
    permissions: [tableAccess("DailyCostRollup")],
    timeout: "5 minutes",
    concurrency: { reserved: RESERVED_CONCURRENCY.schedule },
  },
});

/**
 * From 00:00 UTC on the 1st, every 15 minutes of that day: open the new month's quotas, carrying
 * open jobs' reservations. The first run usually finishes it; a run that nears its timeout stops
 * with its progress recorded and the next one continues (96 runs a day: any number of users).
 * Once the month is done a run is one read. Scheduler retries only cover failed deliveries.
 */
export const monthlyQuotaReset = new sst.aws.CronV2("MonthlyQuotaReset", {
  schedule: "cron(0/15 * 1 * ? *)",
  timezone: "UTC",
  function: {
    handler: QUOTA_RESET_HANDLER,
    description: "Monthly quota reset (opens the month, carries open jobs' reservations)",
    link: [table],
    permissions: [tableAccess("MonthlyQuotaReset")],
    timeout: "15 minutes",
    concurrency: { reserved: RESERVED_CONCURRENCY.schedule },
  },
  retries: 2,
});

/**
 * Every 5 minutes: the safety net of event-driven admission, dependency cascades and workflow
 * starts (packages/core/src/schedule/reconcile.ts); it logs every repair. Linked to the state
 * machine to start, describe and answer executions.
 */
export const reconciler = new sst.aws.CronV2("Reconciler", {
  schedule: "rate(5 minutes)",
  function: {
    handler: RECONCILER_HANDLER,
    description: "Reconciler: admission, dependents of failed jobs, executions of open jobs",
    link: [table, jobWorkflow],
    permissions: [tableAccess("Reconciler")],
    timeout: "4 minutes",
    concurrency: { reserved: RESERVED_CONCURRENCY.schedule },
  },
  retries: 0,
});
