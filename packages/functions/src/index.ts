/** `@gpuaas/functions`: what the local stack runs in-process of the Lambda adapters — the HTTP app,
 * its error body and request id (for answers made outside the app), and the workflow's task steps.
 * The Lambda entry points (handlers.ts and the files it names) are named by path in infra/, not imported. */
export { createApp, MAX_BODY_BYTES } from "./api/app";
export { errorBody } from "./api/errors";
export { clientRequestId } from "./api/middleware";
export type { TaskStep } from "./workflow/core";
export { TASK_STEPS } from "./workflow/index";
