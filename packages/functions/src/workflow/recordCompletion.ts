/** Task RecordCompletion: RUNNING → COMPLETED with the quota settled; a no-op if the job already ended. */
import type { Core } from "@gpuaas/core";
import { recordCompletion } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => recordCompletion(event, core);
export const handler = lambdaHandler(step);
