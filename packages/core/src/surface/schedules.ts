/** `@gpuaas/core/schedules`: the scheduled jobs — the monthly quota reset, the daily cost rollup and
 * the reconciler (the backstop that calls the reactions' own code). */
export { rollupPreviousDay } from "../cost/rollup";
export { resetQuotas } from "../quota/reset";
export { reconcile } from "../schedule/reconcile";
