/** The job lifecycle state machine, in Amazon States Language (JSONPath). One object: infra deploys
 * it to Step Functions and the local engine interprets it. It only routes; every decision is made
 * by core functions behind the Task states. docs/workflow.md draws it. */

/** Each Task state's Lambda (packages/functions/src/workflow/<key>.ts), by what it does. */
export const TASKS = {
  /** Auto-approves a small non-sensitive PENDING job when the policy allows; reports the status. */
  applyApprovalPolicy: "ApplyApprovalPolicy",
  /** Parks the approval task token on a PENDING job (callback pattern). */
  awaitApproval: "AwaitApproval",
  /** Parks the start task token on an APPROVED job (callback pattern). */
  awaitStart: "AwaitStart",
  /** For a RUNNING job: when its simulated run ends (startedAt + estimate). */
  planRuntime: "PlanGpuRuntime",
  /** The simulated outcome, reproducible per job id. */
  drawOutcome: "DrawOutcome",
  /** RUNNING → COMPLETED, quota settled; a no-op when the job already ended. */
  recordCompletion: "RecordCompletion",
  /** RUNNING → FAILED, quota settled; a no-op when the job already ended. */
  recordFailure: "RecordFailure",
  /** A wait for an admin timed out: cancels the job if it is still waiting, releasing its quota. */
  expireWait: "ExpireWait",
  /** Failure path: ends the open job (CANCELLED before start, FAILED while running) and frees its quota. */
  releaseQuota: "ReleaseQuota",
} as const;

export type TaskKey = keyof typeof TASKS;
export const TASK_KEYS = Object.keys(TASKS) as TaskKey[];

/** How long a job may wait for an admin before it is cancelled (14 days; also below the 24.8-day
 * cap of a Node.js timer, which the local interpreter uses for task timeouts). */
export const ADMIN_WAIT_TIMEOUT_SECONDS = 14 * 24 * 60 * 60;

/** Error names (core DomainError names and AWS service errors) worth retrying. */
export const TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "ContentionError",
  "DependencyUnavailableError",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
] as const;

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** Name of the payload field carrying the task token of the callback states. */
export const TASK_TOKEN_FIELD = "taskToken";

const retry = [{ ErrorEquals: [...TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: "FULL" }];
const catchAll = { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: TASKS.releaseQuota };

/** A Lambda task: the payload picks fields of the state input; the output is the function's result. */
function invoke(functionArn: string, payload: Record<string, string>, next: string) {
  return {
    Type: "Task",
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: functionArn, Payload: payload },
    OutputPath: "$.Payload",
    Retry: retry,
    Catch: [catchAll],
    Next: next,
  };
}

/** A callback task: the Lambda parks the token; the output is what SendTaskSuccess sends ({jobId, status}). */
function awaitAdmin(functionArn: string) {
  return {
    Type: "Task",
    Resource: LAMBDA_INVOKE_WAIT_FOR_TOKEN,
    Parameters: {
      FunctionName: functionArn,
      Payload: { "jobId.$": "$.jobId", [`${TASK_TOKEN_FIELD}.$`]: "$$.Task.Token" },
    },
    TimeoutSeconds: ADMIN_WAIT_TIMEOUT_SECONDS,
    Retry: retry,
    Catch: [{ ErrorEquals: ["States.Timeout"], ResultPath: "$.error", Next: TASKS.expireWait }, catchAll],
    Next: "RouteByStatus",
  };
}

const JOB = { "jobId.$": "$.jobId" };

/**
 * The definition for the given Lambda ARNs. Execution input: `{"jobId": "..."}`. Every state's
 * output is `{jobId, status, ...}`; RouteByStatus sends the job to the step its stored status
 * calls for, so an execution started for a job in any open status picks up where it stands.
 */
export function buildJobWorkflowDefinition(taskResources: Record<TaskKey, string>) {
  const fn = (key: TaskKey) => {
    const arn = taskResources[key];
    if (!arn) throw new Error(`No Lambda ARN for workflow task "${key}"`);
    return arn;
  };
  return {
    Comment: "GPU job lifecycle: approval, start, simulated GPU runtime, outcome. Routes on the job's stored status.",
    QueryLanguage: "JSONPath",
    StartAt: TASKS.applyApprovalPolicy,
    States: {
      [TASKS.applyApprovalPolicy]: invoke(fn("applyApprovalPolicy"), JOB, "RouteByStatus"),
      RouteByStatus: {
        Type: "Choice",
        Choices: [
          { Variable: "$.status", StringEquals: "PENDING", Next: TASKS.awaitApproval },
          { Variable: "$.status", StringEquals: "APPROVED", Next: TASKS.awaitStart },
          { Variable: "$.status", StringEquals: "RUNNING", Next: TASKS.planRuntime },
        ],
        Default: "JobClosed",
      },
      [TASKS.awaitApproval]: awaitAdmin(fn("awaitApproval")),
      [TASKS.awaitStart]: awaitAdmin(fn("awaitStart")),
      [TASKS.planRuntime]: invoke(fn("planRuntime"), JOB, "SimulateGpuRuntime"),
      SimulateGpuRuntime: { Type: "Wait", TimestampPath: "$.runEndsAt", Next: TASKS.drawOutcome },
      [TASKS.drawOutcome]: invoke(fn("drawOutcome"), JOB, "RouteByOutcome"),
      RouteByOutcome: {
        Type: "Choice",
        Choices: [{ Variable: "$.outcome", StringEquals: "FAILED", Next: TASKS.recordFailure }],
        Default: TASKS.recordCompletion,
      },
      [TASKS.recordCompletion]: invoke(fn("recordCompletion"), JOB, "JobClosed"),
      [TASKS.recordFailure]: invoke(fn("recordFailure"), { ...JOB, "errorMessage.$": "$.errorMessage" }, "JobClosed"),
      [TASKS.expireWait]: invoke(fn("expireWait"), { ...JOB, "expectedStatus.$": "$.status" }, "RouteByStatus"),
      [TASKS.releaseQuota]: {
        Type: "Task",
        Resource: LAMBDA_INVOKE,
        Parameters: { FunctionName: fn("releaseQuota"), Payload: { ...JOB, "error.$": "$.error" } },
        OutputPath: "$.Payload",
        // The last step that can close the job: keep trying for about a day (an execution that
        // ended while its job is open cannot be restarted under the same name in AWS).
        Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxAttempts: 300, BackoffRate: 2, MaxDelaySeconds: 300 }],
        Next: "LifecycleFailed",
      },
      JobClosed: { Type: "Succeed" },
      LifecycleFailed: {
        Type: "Fail",
        Error: "JobLifecycleFailed",
        Cause: "A lifecycle step failed after its retries; the job was closed and its quota freed (see the job's events).",
      },
    },
  };
}

export type JobWorkflowDefinition = ReturnType<typeof buildJobWorkflowDefinition>;

/** Input of an execution. */
export interface JobWorkflowInput {
  jobId: string;
}
