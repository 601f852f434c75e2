/** Task AwaitApproval (.waitForTaskToken): parks the token on the PENDING job until an admin or its owner moves it on. */
import type { Core } from "@gpuaas/core";
import { parkUntilMovedOn } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => parkUntilMovedOn(core, event, "PENDING");
export const handler = lambdaHandler(step);
