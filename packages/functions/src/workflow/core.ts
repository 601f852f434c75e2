/** What the workflow Lambdas share: their Core, and the shape of a task step (the same step runs
 * in Lambda and in the local engine). */
import type { Core } from "@gpuaas/core";
import { createSfnWorkflow } from "@gpuaas/core/workflow";
import { lambdaCore } from "../linked";

let shared: Core | undefined;

/** The container's Core. Its workflow is always Step Functions: these Lambdas run under it, and
 * answering a task token needs no state machine ARN. */
export function workflowLambdaCore(): Core {
  if (!shared) {
    const core = lambdaCore();
    shared = {
      ...core,
      workflow: createSfnWorkflow({
        stateMachineArn: core.config.jobWorkflowArn,
        region: core.config.region,
        outbound: core.config.outbound,
      }),
    };
  }
  return shared;
}

/** One Task state's work: the state's payload in, the state's result out. */
export type TaskStep = (event: unknown, core: Core) => Promise<unknown>;

/** The job a step's payload names, for log lines (the step itself validates the payload). */
export const jobIdOf = (event: unknown): unknown => (event as { jobId?: unknown } | null)?.jobId;

/** The Lambda entry point of a step: its log lines carry the job id and the invocation's request id. */
export const lambdaHandler = (step: TaskStep) => async (event: unknown, context?: { awsRequestId?: string }) => {
  const core = workflowLambdaCore();
  return step(event, { ...core, log: core.log.child({ jobId: jobIdOf(event), requestId: context?.awsRequestId }) });
};
