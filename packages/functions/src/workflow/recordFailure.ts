/** Task RecordFailure: RUNNING → FAILED with the drawn error; a no-op if the job already ended. */
import type { Core } from "@gpuaas/core/core";
import { recordFailure } from "@gpuaas/core/job/lifecycle";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => recordFailure(event, core);
export const handler = lambdaHandler(step);
