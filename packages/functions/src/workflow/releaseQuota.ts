/** Task ReleaseQuota (the Catch path): closes the open job and frees or settles its quota. */
import type { Core } from "@gpuaas/core";
import { releaseQuota } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => releaseQuota(event, core);
export const handler = lambdaHandler(step);
