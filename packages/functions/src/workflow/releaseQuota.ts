/** Task ReleaseQuota (the Catch path): closes the open job and frees or settles its quota. */
import type { Core } from "@gpuaas/core/core";
import { releaseQuota } from "@gpuaas/core/job/lifecycle";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => releaseQuota(event, core);
export const handler = lambdaHandler(step);
