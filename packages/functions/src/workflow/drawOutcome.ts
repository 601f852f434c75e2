/** Task DrawOutcome: the simulated run's outcome, reproducible per job id. */
import type { Core } from "@gpuaas/core/core";
import { drawOutcome } from "@gpuaas/core/job/lifecycle";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => drawOutcome(event, core);
export const handler = lambdaHandler(step);
