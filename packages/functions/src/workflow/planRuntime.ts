/** Task PlanGpuRuntime: the seconds of simulated GPU runtime a RUNNING job still has to go. */
import type { Core } from "@gpuaas/core";
import { planRuntime } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => planRuntime(event, core);
export const handler = lambdaHandler(step);
