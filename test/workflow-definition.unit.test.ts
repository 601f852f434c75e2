/** The job lifecycle definition: valid ASL, JSONPath only, readable states, Retry/Catch on every
 * task, explicit callback timeouts, and every Task state wired to a local step. */

import { buildJobWorkflowDefinition, LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN, TASK_KEYS, type TaskKey } from "@gpuaas/core/workflow";
import { TASK_STEPS } from "@gpuaas/functions";
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import { ADMIN_WAIT_TIMEOUT_SECONDS, TASKS } from "../packages/core/src/workflow/definition";
import { createLocalWorkflowEngine, localFunctionArn } from "../packages/local/src/workflow-engine";

const arns = Object.fromEntries(TASK_KEYS.map((k) => [k, `arn:aws:lambda:eu-west-1:123456789012:function:gpuaas-${k}`])) as Record<
  TaskKey,
  string
>;
const definition = buildJobWorkflowDefinition(arns);
type AnyState = Record<string, any>;
const states = definition.States as Record<string, AnyState>;

/** Where a JSONata construct appears in `value` (QueryLanguage JSONata, Arguments, Output, Assign, {% %}). */
function jsonataFields(value: unknown, path = "$"): string[] {
  if (typeof value === "string") return value.includes("{%") ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonataFields(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, v]) => [
      ...((key === "QueryLanguage" && v !== "JSONPath") || ["Arguments", "Output", "Assign"].includes(key) ? [`${path}.${key}`] : []),
      ...jsonataFields(v, `${path}.${key}`),
    ]);
  }
  return [];
}

describe("job workflow definition", () => {
  it("is valid Amazon States Language (asl-validator, ARNs and paths checked)", () => {
    const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
    expect(result.errorsText("\n")).toBe("");
    expect(result.isValid).toBe(true);
  });

  it("uses JSONPath only: no JSONata field anywhere", () => {
    expect(definition.QueryLanguage).toBe("JSONPath");
    expect(jsonataFields(definition)).toEqual([]);
  });

  it("the JSONata check catches each JSONata construct", () => {
    const tampered = structuredClone(definition) as any;
    tampered.States.DrawOutcome.Assign = { x: 1 };
    tampered.States.RecordCompletion.Arguments = { FunctionName: "f", Payload: "{% $states.input %}" };
    tampered.States.JobClosed.Output = {};
    tampered.States.RouteByStatus.QueryLanguage = "JSONata";
    expect(jsonataFields(tampered)).toEqual([
      "$.States.RouteByStatus.QueryLanguage",
      "$.States.DrawOutcome.Assign",
      "$.States.RecordCompletion.Arguments",
      "$.States.RecordCompletion.Arguments.Payload",
      "$.States.JobClosed.Output",
    ]);
  });

  it("is plain JSON: what infra serialises is what the local engine runs", () => {
    expect(JSON.parse(JSON.stringify(definition))).toEqual(definition);
    expect(buildJobWorkflowDefinition(arns)).toEqual(definition);
  });

  it("has the readable states of the lifecycle, starting with the approval policy", () => {
    expect(definition.StartAt).toBe("ApplyApprovalPolicy");
    expect(Object.keys(states).sort()).toEqual(
      [...Object.values(TASKS), "RouteByStatus", "SimulateGpuRuntime", "RouteByOutcome", "JobClosed", "LifecycleFailed"].sort(),
    );
    expect(states.RouteByStatus!.Choices.map((c: AnyState) => [c.StringEquals, c.Next])).toEqual([
      ["PENDING", "AwaitApproval"],
      ["APPROVED", "AwaitStart"],
      ["RUNNING", "PlanGpuRuntime"],
    ]);
    expect(states.RouteByStatus!.Default).toBe("JobClosed");
    expect(states.SimulateGpuRuntime).toEqual({ Type: "Wait", TimestampPath: "$.runEndsAt", Next: "DrawOutcome" });
  });

  it("calls one Lambda per task key, through the lambda:invoke integration", () => {
    for (const key of TASK_KEYS) {
      const state = states[TASKS[key]]!;
      expect(state.Type).toBe("Task");
      expect(state.Parameters.FunctionName).toBe(arns[key]);
    }
    const tasks = Object.values(states).filter((s) => s.Type === "Task");
    expect(tasks).toHaveLength(TASK_KEYS.length);
    for (const task of tasks.filter((t) => t.Resource === LAMBDA_INVOKE)) expect(task.OutputPath).toBe("$.Payload");
  });

  it("waits for admins with the callback pattern and an explicit timeout that ends in ExpireWait", () => {
    for (const name of ["AwaitApproval", "AwaitStart"]) {
      const state = states[name]!;
      expect(state.Resource).toBe(LAMBDA_INVOKE_WAIT_FOR_TOKEN);
      expect(state.Parameters.Payload).toEqual({ "jobId.$": "$.jobId", "taskToken.$": "$$.Task.Token" });
      expect(state.TimeoutSeconds).toBe(ADMIN_WAIT_TIMEOUT_SECONDS);
      expect(state.Catch[0]).toEqual({ ErrorEquals: ["States.Timeout"], ResultPath: "$.error", Next: "ExpireWait" });
      expect(state.Next).toBe("RouteByStatus");
    }
    // Node timers (the local interpreter's task timeouts) cap at 2^31 - 1 ms.
    expect(ADMIN_WAIT_TIMEOUT_SECONDS * 1000).toBeLessThan(2 ** 31 - 1);
  });

  it("retries transient errors on every task and catches the rest into ReleaseQuota → LifecycleFailed", () => {
    for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === "Task")) {
      expect(state.Retry?.length, name).toBeGreaterThan(0);
      if (name === "ReleaseQuota") continue;
      expect(state.Retry[0].ErrorEquals, name).toEqual(expect.arrayContaining(["ContentionError", "Lambda.TooManyRequestsException"]));
      expect(state.Retry[0].ErrorEquals, name).not.toContain("States.Timeout");
      expect(state.Catch.at(-1), name).toEqual({ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ReleaseQuota" });
    }
    expect(states.ReleaseQuota!.Next).toBe("LifecycleFailed");
    expect(states.LifecycleFailed!.Type).toBe("Fail");
  });

  it("refuses to build without an ARN for every task", () => {
    const { drawOutcome: _, ...missing } = arns;
    expect(() => buildJobWorkflowDefinition(missing as Record<TaskKey, string>)).toThrow(/drawOutcome/);
  });

  it("every task key has a handler module, and the local engine overrides every Task state", () => {
    expect(Object.keys(TASK_STEPS).sort()).toEqual([...TASK_KEYS].sort());
    expect(() => createLocalWorkflowEngine({ core: () => undefined as never })).not.toThrow();
    expect(new Set(TASK_KEYS.map(localFunctionArn)).size).toBe(TASK_KEYS.length);
  });

  it.each(TASK_KEYS)("packages/functions/src/workflow/%s.ts exports the Lambda `handler`", async (key) => {
    const module = (await import(`../packages/functions/src/workflow/${key}.ts`)) as { handler: unknown; step: unknown };
    expect(typeof module.handler).toBe("function");
    expect(module.step).toBe(TASK_STEPS[key]);
  });
});
