/** Task ExpireWait: an admin wait timed out; cancels the job if it is still waiting. */
import type { Core } from "@gpuaas/core";
import { expireWait } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => expireWait(event, core);
export const handler = lambdaHandler(step);
