/** The Lambda entry points of this package, as infra names them (`<file without .ts>.<export>`,
 * from the repo root). Tests check that each one exists and exports `handler`. */
import { TASK_KEYS, type TaskKey } from "@gpuaas/core/workflow";

const dir = "packages/functions/src";

/** The HTTP API (Hono on API Gateway v2). */
export const API_HANDLER = `${dir}/api/lambda.handler`;

/** One Lambda per Task state of the job workflow. */
export const WORKFLOW_TASK_HANDLERS = Object.fromEntries(TASK_KEYS.map((key) => [key, `${dir}/workflow/${key}.handler`])) as Record<
  TaskKey,
  string
>;

/** Scheduled shortly after midnight UTC: the previous day's cost rollup. */
export const DAILY_COST_ROLLUP_HANDLER = `${dir}/schedules/dailyCostRollup.handler`;

/** Scheduled: the monthly quota reset. */
export const QUOTA_RESET_HANDLER = `${dir}/schedules/monthlyQuotaReset.handler`;
/** The table stream's subscriber: domain events to EventBridge. */
export const EVENT_SUBSCRIBER_HANDLER = `${dir}/events/subscriber.handler`;

/** The table stream's reactions consumer: admission, dependents, executions, budget alerts. */
export const REACTIONS_HANDLER = `${dir}/reactions/consumer.handler`;

/** Scheduled: the reconciler (admission, cascades and executions a crash left behind). */
export const RECONCILER_HANDLER = `${dir}/schedules/reconciler.handler`;
