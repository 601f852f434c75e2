/** Task DrawOutcome: the simulated run's outcome, reproducible per job id. */
import type { Core } from "@gpuaas/core";
import { drawOutcome } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => drawOutcome(event, core);
export const handler = lambdaHandler(step);
