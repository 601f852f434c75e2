/** The workflow port on AWS Step Functions: one standard execution per job, named after the job id. */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mapUnavailableErrors, type OutboundSettings, outboundClientConfig } from "../aws/outbound";
import type { JobWorkflowInput } from "./definition";
import { ExecutionEndedError, type ExecutionStatus, TaskNotWaitingError, type WorkflowPort } from "./port";

/** Stop reason shown in the Step Functions console when a job ended outside the machine. */
export const STOPPED_ERROR = "JobEndedByAction";

/** arn:aws:states:r:a:stateMachine:Name → arn:aws:states:r:a:execution:Name:<jobId> */
export function executionArn(stateMachineArn: string, jobId: string): string {
  const parts = stateMachineArn.split(":");
  if (parts.length !== 7 || parts[5] !== "stateMachine") throw new Error(`Not a state machine ARN: ${stateMachineArn}`);
  return [...parts.slice(0, 5), "execution", parts[6], jobId].join(":");
}

const isNamed = (error: unknown, ...names: string[]) => names.includes((error as Error)?.name);

/**
 * The port on Step Functions. Without `stateMachineArn` only the task-token calls work: that is
 * all the workflow's own Lambdas need, and their not knowing the ARN keeps infra free of a cycle
 * (the state machine already depends on them).
 */
export function createSfnWorkflow(
  opts: { stateMachineArn?: string } & ({ client: SFNClient } | { region: string; outbound: OutboundSettings }),
): WorkflowPort {
  const client =
    "client" in opts
      ? opts.client
      : mapUnavailableErrors(new SFNClient({ region: opts.region, ...outboundClientConfig(opts.outbound) }), "Step Functions");
  const machineArn = () => {
    if (!opts.stateMachineArn) throw new Error("JOB_WORKFLOW_ARN is not set: this function can only answer task tokens");
    return opts.stateMachineArn;
  };
  const arnOf = (jobId: string) => executionArn(machineArn(), jobId);

  const port: WorkflowPort = {
    async startJob(jobId) {
      const input: JobWorkflowInput = { jobId };
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn: machineArn(), name: jobId, input: JSON.stringify(input) }));
      } catch (error) {
        // Same name and input while running is accepted by Step Functions; a closed one answers this.
        if (!isNamed(error, "ExecutionAlreadyExists")) throw error;
        const existing = await port.describe(jobId);
        if (existing && existing.status !== "RUNNING") {
          // Names are unique per state machine for 90 days: the open job's lifecycle cannot simply
          // start again. Say so loudly (callers log it) instead of pretending it runs.
          throw new ExecutionEndedError(
            `Execution ${jobId} already ended (${existing.status}) while its job is open; redrive it or close the job`,
            { cause: error },
          );
        }
      }
    },
    async sendTaskSuccess(taskToken, output) {
      try {
        await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      } catch (error) {
        if (isNamed(error, "TaskDoesNotExist", "TaskTimedOut", "InvalidToken")) {
          throw new TaskNotWaitingError("The task token is no longer waiting", { cause: error });
        }
        throw error;
      }
    },
    async sendTaskFailure(taskToken, error, cause) {
      try {
        await client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
      } catch (failure) {
        if (isNamed(failure, "TaskDoesNotExist", "TaskTimedOut", "InvalidToken")) {
          throw new TaskNotWaitingError("The task token is no longer waiting", { cause: failure });
        }
        throw failure;
      }
    },
    async stop(jobId, cause) {
      try {
        await client.send(new StopExecutionCommand({ executionArn: arnOf(jobId), error: STOPPED_ERROR, cause }));
      } catch (error) {
        if (!isNamed(error, "ExecutionDoesNotExist")) throw error;
      }
    },
    async describe(jobId) {
      try {
        const out = await client.send(new DescribeExecutionCommand({ executionArn: arnOf(jobId) }));
        return {
          name: out.name ?? jobId,
          status: out.status as ExecutionStatus,
          startedAt: (out.startDate ?? new Date(0)).toISOString(),
          stoppedAt: out.stopDate?.toISOString(),
        };
      } catch (error) {
        if (isNamed(error, "ExecutionDoesNotExist")) return undefined;
        throw error;
      }
    },
  };
  return port;
}
