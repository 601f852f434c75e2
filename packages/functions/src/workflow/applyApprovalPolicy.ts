/** Task ApplyApprovalPolicy: auto-approves a small non-sensitive PENDING job when the policy is on. */
import type { Core } from "@gpuaas/core/core";
import { applyApprovalPolicy } from "@gpuaas/core/job/lifecycle";
import { lambdaHandler } from "./core";

export const step = (event: unknown, core: Core) => applyApprovalPolicy(event, core);
export const handler = lambdaHandler(step);
