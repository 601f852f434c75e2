/** Task AwaitStart (.waitForTaskToken): parks the token on the APPROVED job until an admin starts it or it is cancelled. */
import type { Core } from "@gpuaas/core";
import { parkUntilMovedOn } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => parkUntilMovedOn(core, event, "APPROVED");
export const handler = lambdaHandler(step);
