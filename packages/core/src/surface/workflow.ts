/** `@gpuaas/core/workflow`: a job's lifecycle as a Step Functions state machine — its definition
 * (one, deployed to AWS and interpreted locally), the port core starts and answers executions
 * through, the Step Functions adapter of that port, and the steps its tasks run. */
export {
  applyApprovalPolicy,
  drawOutcome,
  expireWait,
  parkUntilMovedOn,
  planRuntime,
  recordCompletion,
  recordFailure,
  releaseQuota,
} from "../job/lifecycle";
export { openJobIds } from "../job/store";
export {
  buildJobWorkflowDefinition,
  type JobWorkflowInput,
  LAMBDA_INVOKE,
  LAMBDA_INVOKE_WAIT_FOR_TOKEN,
  TASK_KEYS,
  TASK_TOKEN_FIELD,
  type TaskKey,
} from "../workflow/definition";
export { type ExecutionStatus, type ExecutionView, TaskNotWaitingError, type TaskResult, type WorkflowPort } from "../workflow/port";
export { createSfnWorkflow } from "../workflow/sfn";
