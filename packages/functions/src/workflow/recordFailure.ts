/** Task RecordFailure: RUNNING → FAILED with the drawn error; a no-op if the job already ended. */
import type { Core } from "@gpuaas/core";
import { recordFailure } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => recordFailure(event, core);
export const handler = lambdaHandler(step);
