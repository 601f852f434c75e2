/** Task ApplyApprovalPolicy: auto-approves a small non-sensitive PENDING job when the policy is on. */
import type { Core } from "@gpuaas/core";
import { applyApprovalPolicy } from "@gpuaas/core/workflow";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => applyApprovalPolicy(event, core);
export const handler = lambdaHandler(step);
