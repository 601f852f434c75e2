/** The Lambdas of the job workflow as AWS runs them, against DynamoDB Local with Step Functions
 * mocked at the SDK: the definition infra deploys binds every Task state to its Lambda; each task
 * entry point answers the payload that definition builds for it; the reactions Lambda, fed the
 * table's stream as its event source mapping would, starts executions on the linked state machine
 * and answers the parked task tokens. */
import { resolve } from "node:path";
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { createCore, createLogger, generateSigningKey, loadConfig } from "@gpuaas/core";
import { ensureAdmin } from "@gpuaas/core/api";
import { ensureTable, tableStreamArn } from "@gpuaas/core/aws";
import { buildJobWorkflowDefinition, LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN, TASK_KEYS, type TaskKey } from "@gpuaas/core/workflow";
import validateAsl from "asl-validator";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { newId } from "../packages/core/src/util/id";
import { TASKS } from "../packages/core/src/workflow/definition";
import { API_HANDLER, QUOTA_RESET_HANDLER, REACTIONS_HANDLER, WORKFLOW_TASK_HANDLERS } from "../packages/functions/src/handlers";
import { type StreamReader, startStreamReader } from "../packages/local/src/stream-reader";
import { apiEvent, invoke } from "./support/apigw";
import { uniqueEmail, validJob } from "./support/http";

const ROOT = resolve(import.meta.dirname, "..");
const MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:gpuaas-test-JobWorkflow";
const TABLE_NAME = `test-wflambda-${newId().toLowerCase()}`;
const JWT_SIGNING_KEY = JSON.stringify(generateSigningKey("wf-lambda-test"));

// Links as SST's Resource reads them (SST_RESOURCE_<name>), set before any entry point touches
// Resource: it reads the environment once. Step Functions itself is the SDK mock below.
const savedEnv = { ...process.env };
Object.assign(process.env, {
  SST_RESOURCE_App: JSON.stringify({ name: "gpuaas", stage: "test" }),
  SST_RESOURCE_Table: JSON.stringify({ name: TABLE_NAME, type: "sst.aws.Dynamo" }),
  // The API entry point signs tokens; in AWS only its function is linked to the key.
  SST_RESOURCE_JwtSigningKey: JSON.stringify({ value: JWT_SIGNING_KEY, type: "sst.sst.Secret" }),
  SST_RESOURCE_JobWorkflow: JSON.stringify({ arn: MACHINE, type: "sst.sst.Linkable" }),
  DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
  SIMULATION_SECONDS_PER_HOUR: "0",
  SIMULATION_FAILURE_RATE: "0",
});
afterAll(() => {
  process.env = savedEnv;
});

/** The ARNs infra resolves (one function per task key), and the definition it deploys with them. */
const taskArns = Object.fromEntries(
  TASK_KEYS.map((key) => [key, `arn:aws:lambda:us-east-1:123456789012:function:gpuaas-test-Workflow${TASKS[key]}`]),
) as Record<TaskKey, string>;
const definition = buildJobWorkflowDefinition(taskArns);
type State = { Type: string; Resource?: string; Parameters?: { FunctionName?: string; Payload?: Record<string, string> } };
const states = definition.States as Record<string, State>;

/** Loads a Lambda entry point the way the runtime does: "<module path>.<export>" from the repo root. */
async function entryPoint(handlerPath: string) {
  const dot = handlerPath.lastIndexOf(".");
  const mod = await import(resolve(ROOT, `${handlerPath.slice(0, dot)}.ts`));
  return mod[handlerPath.slice(dot + 1)] as (event: unknown, context?: unknown) => Promise<any>;
}

/** The Payload Step Functions hands a Task's Lambda: the state's Parameters.Payload applied to its input. */
function payloadFor(stateName: string, input: Record<string, unknown>, taskToken?: string) {
  const template = states[stateName]?.Parameters?.Payload;
  if (!template) throw new Error(`${stateName} has no Payload template`);
  return Object.fromEntries(
    Object.entries(template).map(([key, path]) => {
      if (!key.endsWith(".$")) return [key, path];
      if (path === "$$.Task.Token") return [key.slice(0, -2), taskToken];
      if (!path.startsWith("$.")) throw new Error(`unsupported path ${path}`);
      return [key.slice(0, -2), input[path.slice(2)]];
    }),
  );
}

/** Runs the Task state `stateName` through its Lambda entry point. */
async function runTask(stateName: string, input: Record<string, unknown>, taskToken?: string) {
  const key = TASK_KEYS.find((k) => TASKS[k] === stateName);
  if (!key) throw new Error(`${stateName} is not a Task state`);
  const handler = await entryPoint(WORKFLOW_TASK_HANDLERS[key]);
  return handler(payloadFor(stateName, input, taskToken), { awsRequestId: "task" });
}

describe("the deployed definition", () => {
  it("binds every Task state to one of the task Lambdas, and every task Lambda to a state", () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === "Task");
    expect(tasks.map(([name]) => name).sort()).toEqual(Object.values(TASKS).sort());
    for (const [name, state] of tasks) {
      expect([LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN]).toContain(state.Resource);
      const key = TASK_KEYS.find((k) => TASKS[k] === name)!;
      expect(state.Parameters?.FunctionName, name).toBe(taskArns[key]);
    }
  });

  it("leaves no placeholder, and is valid ASL", () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/undefined|placeholder|\$\{|TODO/i);
    const { isValid, errorsText } = validateAsl(structuredClone(definition), { checkArn: true, checkPaths: true });
    expect(isValid, errorsText()).toBe(true);
  });

  it("has an entry point exporting `handler` for the API, each task and each schedule", async () => {
    for (const path of [API_HANDLER, REACTIONS_HANDLER, ...Object.values(WORKFLOW_TASK_HANDLERS), QUOTA_RESET_HANDLER]) {
      expect(typeof (await entryPoint(path)), path).toBe("function");
    }
  });
});

describe("task Lambdas and the API Lambda, as Step Functions drives them", () => {
  const sfn = mockClient(SFNClient);
  let api: (event: unknown) => Promise<any>;
  let stream: StreamReader;
  let user: string;
  let admin: string;

  /** An API call, once the reactions Lambda has had the changes it committed. */
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await invoke(api as never, apiEvent(method, path, { headers: { authorization: `Bearer ${token}` }, body }));
    await stream.idle();
    return res;
  };
  const submit = async () => {
    const res = await call("POST", "/api/v1/jobs", user, validJob({ estimatedHours: 1 }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const jobStatus = async (id: string) => (await call("GET", `/api/v1/jobs/${id}`, user)).body.status;
  const tokensAnswered = () =>
    sfn
      .commandCalls(SendTaskSuccessCommand)
      .map((c) => ({ token: c.args[0].input.taskToken, output: JSON.parse(c.args[0].input.output!) }));

  beforeAll(async () => {
    const core = createCore(loadConfig({ TABLE_NAME, DYNAMODB_ENDPOINT: inject("dynamoEndpoint") }));
    await ensureTable(core.db.client, TABLE_NAME);
    api = await entryPoint(API_HANDLER);
    // The event source mapping: each batch of the table's stream to the reactions Lambda.
    const reactions = await entryPoint(REACTIONS_HANDLER);
    stream = await startStreamReader({
      endpoint: inject("dynamoEndpoint"),
      region: core.config.region,
      streamArn: (await tableStreamArn(core.db.client, TABLE_NAME))!,
      outbound: core.config.outbound,
      log: createLogger("SILENT"),
      pollMs: 50,
      handle: async (records) => {
        const { batchItemFailures } = await reactions({ Records: records }, { awsRequestId: "reactions" });
        const failed = batchItemFailures[0]?.itemIdentifier;
        return failed === undefined ? undefined : records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
      },
    });

    const login = async (email: string, password: string) =>
      (await invoke(api as never, apiEvent("POST", "/api/v1/auth/login", { body: { email, password } }))).body.accessToken;
    const email = uniqueEmail("wf");
    await invoke(api as never, apiEvent("POST", "/api/v1/auth/register", { body: { email, password: "long enough pw", fullName: "W" } }));
    user = await login(email, "long enough pw");
    const adminEmail = uniqueEmail("wfadmin");
    await ensureAdmin(core, { email: adminEmail, password: "admin password 123" });
    admin = await login(adminEmail, "admin password 123");
  });

  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake((input) => ({
      executionArn: `${MACHINE.replace(":stateMachine:", ":execution:")}:${input.name}`,
      startDate: new Date(),
    }));
    sfn.onAnyCommand().resolves({});
  });

  afterAll(async () => {
    await stream?.stop();
    sfn.restore();
  });

  it("submit starts an execution on the linked machine; each step's output feeds the next to COMPLETED", async () => {
    const jobId = await submit();
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: MACHINE, name: jobId, input: JSON.stringify({ jobId }) },
    ]);

    const policy = await runTask("ApplyApprovalPolicy", { jobId });
    expect(policy).toEqual({ jobId, status: "PENDING" });

    expect(await runTask("AwaitApproval", policy, "approval-token")).toMatchObject({ jobId, parked: true });
    expect((await call("POST", `/api/v1/admin/jobs/${jobId}/approve`, admin)).status).toBe(200);
    expect(tokensAnswered()).toEqual([{ token: "approval-token", output: { jobId, status: "APPROVED" } }]);

    // The callback's output (what SendTaskSuccess sent) is the next state's input.
    const approved = tokensAnswered()[0]!.output;
    expect(await runTask("AwaitStart", approved, "start-token")).toMatchObject({ jobId, parked: true });
    expect((await call("POST", `/api/v1/admin/jobs/${jobId}/start`, admin)).status).toBe(200);
    const running = tokensAnswered().find((t) => t.token === "start-token")!.output;
    expect(running).toEqual({ jobId, status: "RUNNING" });

    const plan = await runTask("PlanGpuRuntime", running);
    expect(plan).toMatchObject({ jobId, status: "RUNNING", runtimeSeconds: 0 });
    const outcome = await runTask("DrawOutcome", plan);
    expect(outcome).toMatchObject({ jobId, outcome: "COMPLETED" });
    expect(await runTask("RecordCompletion", outcome)).toEqual({ jobId, status: "COMPLETED" });
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });

  it("RecordFailure takes the drawn errorMessage", async () => {
    const jobId = await submit();
    await call("POST", `/api/v1/admin/jobs/${jobId}/approve`, admin);
    await call("POST", `/api/v1/admin/jobs/${jobId}/start`, admin);
    const drawn = { jobId, status: "RUNNING", outcome: "FAILED", errorMessage: "CUDA error: out of memory" };
    expect(await runTask("RecordFailure", drawn)).toEqual({ jobId, status: "FAILED" });
    const job = (await call("GET", `/api/v1/jobs/${jobId}`, user)).body;
    expect(job).toMatchObject({ status: "FAILED", errorMessage: "CUDA error: out of memory" });
  });

  it("ExpireWait gets the waiting state's input plus the caught timeout, and cancels the job", async () => {
    const jobId = await submit();
    const input = { jobId, status: "PENDING", error: { Error: "States.Timeout", Cause: "" } };
    expect(await runTask("ExpireWait", input)).toEqual({ jobId, status: "CANCELLED" });
    expect(await jobStatus(jobId)).toBe("CANCELLED");
  });

  it("ReleaseQuota gets the caught error and closes the open job", async () => {
    const jobId = await submit();
    const input = { jobId, status: "PENDING", error: { Error: "Lambda.Unknown", Cause: "boom" } };
    expect(await runTask("ReleaseQuota", input)).toMatchObject({ jobId, status: "CANCELLED" });
    expect(await jobStatus(jobId)).toBe("CANCELLED");
  });

  it("a bad payload fails the task with the error name the definition's Catch sees", async () => {
    await expect(runTask("DrawOutcome", { jobId: "not-a-job-id" })).rejects.toMatchObject({ name: "ValidationError" });
  });
});

describe("scheduled Lambdas, as EventBridge Scheduler invokes them", () => {
  it("the monthly quota reset opens this month for every user and reports it", async () => {
    const reset = await entryPoint(QUOTA_RESET_HANDLER);
    const context = { awsRequestId: "schedule", getRemainingTimeInMillis: () => 15 * 60_000 };
    const result = await reset({ "detail-type": "Scheduled Event" }, context);
    expect(result).toMatchObject({ period: new Date().toISOString().slice(0, 7), done: true, phase: "done" });
    // The user already opened this month by submitting; the admin had not.
    expect(result.usersOpened).toBe(1);
    // Again: already done, nothing more opened.
    expect(await reset({}, context)).toMatchObject({ done: true, usersOpened: result.usersOpened });
  });
});
