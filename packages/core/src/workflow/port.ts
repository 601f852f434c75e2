/** The workflow port: how core drives a job's lifecycle execution without knowing whether Step
 * Functions (sfn.ts) or the local interpreter (packages/local) runs it. */
import type { JobStatus } from "../job/job";

/** What a callback state receives when the job moves on: the job and its new stored status. */
export interface TaskResult {
  jobId: string;
  status: JobStatus;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

export interface ExecutionView {
  name: string;
  status: ExecutionStatus;
  startedAt: string;
  stoppedAt?: string;
  /** The state the execution is in, where the engine knows it (local engine). */
  currentState?: string;
}

export interface WorkflowPort {
  /** Starts the job's execution, named after the job id. Starting a job that has one is a no-op. */
  startJob(jobId: string): Promise<void>;
  /** Completes a waiting callback state with `output`. Throws TaskNotWaitingError for a stale token. */
  sendTaskSuccess(taskToken: string, output: TaskResult): Promise<void>;
  /** Fails a waiting callback state with `error` (matched by the state's Catch). */
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
  /** Stops the job's execution; a job without a running execution is a no-op. */
  stop(jobId: string, cause: string): Promise<void>;
  /** The job's execution, or undefined when it has none. */
  describe(jobId: string): Promise<ExecutionView | undefined>;
}

/** The token no longer belongs to a waiting task (it timed out, or its execution ended). */
export class TaskNotWaitingError extends Error {
  override name = "TaskNotWaitingError";
}

/** The job's execution has ended (in AWS its name cannot be reused) although the job is still open. */
export class ExecutionEndedError extends Error {
  override name = "ExecutionEndedError";
}

/** The port for a core that must not run workflows (scripts, one-off tools): any use fails loudly. */
export const noWorkflow = (reason: string): WorkflowPort => {
  const fail = async (): Promise<never> => {
    throw new Error(`No workflow engine configured: ${reason}`);
  };
  return { startJob: fail, sendTaskSuccess: fail, sendTaskFailure: fail, stop: fail, describe: fail };
};
