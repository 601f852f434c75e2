/** The Step Functions adapter of the workflow port: the exact commands it sends, and how it reads
 * the service's answers (aws-sdk-client-mock, no network). */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { createSfnWorkflow, TaskNotWaitingError } from "@gpuaas/core/workflow";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ExecutionEndedError } from "../packages/core/src/workflow/port";
import { executionArn, STOPPED_ERROR } from "../packages/core/src/workflow/sfn";

const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:gpuaas-prod-JobLifecycle";
const JOB = "01JABCDEFGHJKMNPQRSTVWXYZ0";
const EXECUTION = `arn:aws:states:eu-west-1:123456789012:execution:gpuaas-prod-JobLifecycle:${JOB}`;

const sfn = mockClient(SFNClient);
const workflow = () => createSfnWorkflow({ stateMachineArn: MACHINE, client: new SFNClient({ region: "eu-west-1" }) });
const meta = { $metadata: {} };

beforeEach(() => sfn.reset());

describe("Step Functions workflow adapter", () => {
  it("derives the execution ARN from the state machine ARN and the job id", () => {
    expect(executionArn(MACHINE, JOB)).toBe(EXECUTION);
    expect(() => executionArn("arn:aws:lambda:eu-west-1:123456789012:function:x", JOB)).toThrow(/state machine ARN/);
  });

  it("startJob: StartExecution named after the job id, input {jobId}", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    await workflow().startJob(JOB);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: MACHINE, name: JOB, input: JSON.stringify({ jobId: JOB }) },
    ]);
  });

  it("startJob: an execution of that name still running is success (idempotent start)", async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", ...meta }));
    sfn.on(DescribeExecutionCommand).resolves({ name: JOB, status: "RUNNING", startDate: new Date() } as never);
    await expect(workflow().startJob(JOB)).resolves.toBeUndefined();
  });

  it("startJob: an execution of that name that already ended is an ExecutionEndedError, not a silent success", async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", ...meta }));
    sfn.on(DescribeExecutionCommand).resolves({ name: JOB, status: "FAILED", startDate: new Date() } as never);
    await expect(workflow().startJob(JOB)).rejects.toBeInstanceOf(ExecutionEndedError);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: expect.stringMatching(new RegExp(`:execution:[^:]+:${JOB}$`)),
    });
  });

  it("startJob: other errors propagate", async () => {
    sfn.on(StartExecutionCommand).rejects(new Error("throttled"));
    await expect(workflow().startJob(JOB)).rejects.toThrow("throttled");
  });

  it("sendTaskSuccess: SendTaskSuccess with the token and the JSON output", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await workflow().sendTaskSuccess("token-1", { jobId: JOB, status: "APPROVED" });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: "token-1",
      output: JSON.stringify({ jobId: JOB, status: "APPROVED" }),
    });
  });

  it.each([
    ["TaskTimedOut", new TaskTimedOut({ message: "t", ...meta })],
    ["InvalidToken", new InvalidToken({ message: "t", ...meta })],
  ])("sendTaskSuccess: %s → TaskNotWaitingError", async (_, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error);
    await expect(workflow().sendTaskSuccess("old", { jobId: JOB, status: "APPROVED" })).rejects.toBeInstanceOf(TaskNotWaitingError);
  });

  it("sendTaskFailure: SendTaskFailure with token, error and cause", async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await workflow().sendTaskFailure("token-2", "States.Timeout", "gave up");
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: "token-2",
      error: "States.Timeout",
      cause: "gave up",
    });
  });

  it("stop: StopExecution of the job's execution with a reason; a missing execution is a no-op", async () => {
    sfn
      .on(StopExecutionCommand)
      .resolvesOnce({ stopDate: new Date() })
      .rejects(new ExecutionDoesNotExist({ message: "no", ...meta }));
    await workflow().stop(JOB, "Job FAILED by an admin");
    await expect(workflow().stop(JOB, "again")).resolves.toBeUndefined();
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: EXECUTION,
      error: STOPPED_ERROR,
      cause: "Job FAILED by an admin",
    });
  });

  it("describe: DescribeExecution of the job's execution, mapped; undefined when there is none", async () => {
    const startDate = new Date("2026-11-02T10:00:00.000Z");
    const stopDate = new Date("2026-11-02T11:00:00.000Z");
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: EXECUTION, stateMachineArn: MACHINE, name: JOB, status: "SUCCEEDED", startDate, stopDate })
      .rejects(new ExecutionDoesNotExist({ message: "no", ...meta }));
    expect(await workflow().describe(JOB)).toEqual({
      name: JOB,
      status: "SUCCEEDED",
      startedAt: startDate.toISOString(),
      stoppedAt: stopDate.toISOString(),
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
    expect(await workflow().describe(JOB)).toBeUndefined();
  });

  it("without a state machine ARN (the workflow's own Lambdas) answers tokens but cannot start or stop", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const tokensOnly = createSfnWorkflow({ client: new SFNClient({ region: "eu-west-1" }) });
    await tokensOnly.sendTaskSuccess("t", { jobId: JOB, status: "RUNNING" });
    await expect(tokensOnly.startJob(JOB)).rejects.toThrow(/JOB_WORKFLOW_ARN/);
    await expect(tokensOnly.stop(JOB, "x")).rejects.toThrow(/JOB_WORKFLOW_ARN/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
