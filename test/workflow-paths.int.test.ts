/** The state machine's other paths on the local engine: Retry on transient errors, the Catch to
 * ReleaseQuota, an admin wait that times out, and the callback emulation itself. */

import { ContentionError, type Core, createCore, DependencyUnavailableError } from "@gpuaas/core";
import { approveJob } from "@gpuaas/core/api";
import { ensureTable } from "@gpuaas/core/aws";
import { TaskNotWaitingError } from "@gpuaas/core/workflow";
import { createApp, TASK_STEPS } from "@gpuaas/functions";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getJobItem } from "../packages/core/src/job/store";
import { createLocalWorkflowEngine, type LocalWorkflowEngine } from "../packages/local/src/workflow-engine";
import { testConfig, withReactions } from "./support/core";
import { signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";
import { recordingLog } from "./support/log";
import { eventually } from "./support/wait";

/** The task token the job's execution parked on the job item. The engine counts a task as waiting
 * as soon as it is handed its token, a moment before the step has stored it: wait for the store. */
const parkedToken = (core: Core, jobId: string) =>
  eventually(`job ${jobId}'s task token to be stored`, async () => (await getJobItem(core.db, jobId, true))?.taskToken);

const engines: LocalWorkflowEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
  vi.restoreAllMocks();
});

/** An app whose engine runs `steps` (the real ones, some replaced); `logged` holds its log lines. */
async function appWith(steps: Partial<typeof TASK_STEPS>, env: Record<string, string> = {}) {
  let core: Core | undefined;
  const engine = createLocalWorkflowEngine({ core: () => core!, steps: { ...TASK_STEPS, ...steps }, retryIntervalMs: 5 });
  engines.push(engine);
  const { log, lines: logged } = recordingLog();
  core = createCore(testConfig({ SIMULATION_FAILURE_RATE: "0", ...env }), { workflow: engine, log });
  await ensureTable(core.db.client, core.db.table);
  await withReactions(core);
  const app = createApp(core);
  const admin = await signUpAdmin(app, core);
  const user = await signUp(app);
  return { core, engine, app, admin, user, logged, api: lifecycleApi(app, engine) };
}

describe("workflow paths", () => {
  it("retries a step that fails with a transient error, then carries on", async () => {
    let failures = 0;
    const ctx = await appWith({
      drawOutcome: async (event, core) => {
        if (failures++ < 2) throw new ContentionError("busy");
        return TASK_STEPS.drawOutcome(event, core);
      },
    });
    const job = await ctx.api.submit(ctx.user.token);
    await ctx.api.act(ctx.admin.token, job.id, "approve");
    await ctx.api.act(ctx.admin.token, job.id, "start");
    await ctx.api.untilStatus(ctx.user.token, job.id, "COMPLETED");
    const execution = await ctx.api.executionEnded(job.id);
    expect(execution.status).toBe("SUCCEEDED");
    expect(execution.history.filter((h) => h.type === "StateRetried" && h.state === "DrawOutcome")).toHaveLength(2);
  });

  it("retries a step that finds DynamoDB unavailable (timeouts, refused connections), then carries on", async () => {
    let failures = 0;
    const ctx = await appWith({
      applyApprovalPolicy: async (event, core) => {
        if (failures++ < 3) throw new DependencyUnavailableError("DynamoDB", { cause: new Error("connect ECONNREFUSED") });
        return TASK_STEPS.applyApprovalPolicy(event, core);
      },
    });
    const job = await ctx.api.submit(ctx.user.token);
    await ctx.api.untilWaiting(job.id);
    const execution = (await ctx.engine.describe(job.id))!;
    expect(execution.history.filter((h) => h.type === "StateRetried" && h.state === "ApplyApprovalPolicy")).toHaveLength(3);
    expect(ctx.logged.filter((l) => l.message === "workflow step failed")).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ level: "warn", fields: expect.objectContaining({ jobId: job.id }) })),
    );
    expect(await ctx.api.job(ctx.user.token, job.id)).toMatchObject({ status: "PENDING" });
  });

  it("a step that keeps failing is caught: ReleaseQuota fails the running job, settles quota, execution FAILED", async () => {
    const ctx = await appWith({
      drawOutcome: async () => {
        throw new TypeError("simulator crashed");
      },
    });
    const job = await ctx.api.submit(ctx.user.token, { estimatedHours: 2 });
    await ctx.api.act(ctx.admin.token, job.id, "approve");
    await ctx.api.act(ctx.admin.token, job.id, "start");
    const failed = await ctx.api.untilStatus(ctx.user.token, job.id, "FAILED");
    expect(failed.errorMessage).toContain("TypeError: simulator crashed");
    expect(failed.usedGpuHours).toBe(2);
    expect(await ctx.api.quota(ctx.user.token)).toMatchObject({ reservedHours: 0, usedHours: 2 });
    const execution = await ctx.api.executionEnded(job.id);
    expect(execution.status).toBe("FAILED");
    expect(
      execution.history
        .filter((h) => h.type === "StateEntered")
        .map((h) => h.state)
        .slice(-3),
    ).toEqual(["DrawOutcome", "ReleaseQuota", "LifecycleFailed"]);
    expect((await ctx.api.events(ctx.user.token, job.id)).at(-1)).toMatchObject({ status: "FAILED", actor: "workflow" });
    expect(ctx.logged).toContainEqual(
      expect.objectContaining({ level: "error", message: "job workflow failed", fields: expect.objectContaining({ jobId: job.id }) }),
    );
  });

  it("a failure before the start cancels the job and releases its reservation in full", async () => {
    const ctx = await appWith({
      applyApprovalPolicy: async () => {
        throw new Error("policy service down");
      },
    });
    const job = await ctx.api.submit(ctx.user.token, { estimatedHours: 3 });
    const cancelled = await ctx.api.untilStatus(ctx.user.token, job.id, "CANCELLED");
    expect(cancelled.usedGpuHours).toBeUndefined();
    expect(await ctx.api.quota(ctx.user.token)).toMatchObject({ reservedHours: 0, usedHours: 0 });
    expect((await ctx.api.events(ctx.user.token, job.id)).at(-1)).toMatchObject({
      status: "CANCELLED",
      actor: "workflow",
      reason: expect.stringContaining("policy service down"),
    });
    expect((await ctx.api.executionEnded(job.id)).status).toBe("FAILED");
    expect(ctx.logged).toContainEqual(
      expect.objectContaining({ level: "error", message: "job workflow failed", fields: expect.objectContaining({ jobId: job.id }) }),
    );
  });

  it("an admin wait that times out cancels the job still waiting (ExpireWait)", async () => {
    const ctx = await appWith({});
    const job = await ctx.api.submit(ctx.user.token, { estimatedHours: 2 });
    await ctx.api.untilWaiting(job.id);
    // What Step Functions does when TimeoutSeconds passes: the task fails with States.Timeout.
    const token = await parkedToken(ctx.core, job.id);
    await ctx.core.workflow.sendTaskFailure(token, "States.Timeout", "no answer within TimeoutSeconds");
    const cancelled = await ctx.api.untilStatus(ctx.user.token, job.id, "CANCELLED");
    expect(cancelled).toBeDefined();
    expect((await ctx.api.events(ctx.user.token, job.id)).at(-1)).toMatchObject({
      actor: "workflow",
      reason: "expired: no admin approval within 14 days",
    });
    expect(await ctx.api.quota(ctx.user.token)).toMatchObject({ reservedHours: 0, usedHours: 0 });
    const execution = await ctx.api.executionEnded(job.id);
    expect(execution.status).toBe("SUCCEEDED");
    expect(execution.history.some((h) => h.type === "StateEntered" && h.state === "ExpireWait")).toBe(true);
  });

  it("a timed-out wait for a job that moved on meanwhile (its nudge was lost) continues from its status", async () => {
    const ctx = await appWith({});
    const job = await ctx.api.submit(ctx.user.token);
    await ctx.api.untilWaiting(job.id);
    const token = await parkedToken(ctx.core, job.id);
    // Approve without telling the workflow, as if SendTaskSuccess had failed.
    const silent = { ...ctx.core, workflow: { ...ctx.core.workflow, sendTaskSuccess: async () => undefined } };
    await approveJob(silent, { userId: ctx.admin.id, role: "admin" }, job.id);
    await ctx.core.workflow.sendTaskFailure(token, "States.Timeout", "timed out");
    // ExpireWait finds it APPROVED, so the execution goes on to wait for the start.
    await ctx.api.untilWaiting(job.id);
    expect(await ctx.api.job(ctx.user.token, job.id)).toMatchObject({ status: "APPROVED" });
    await ctx.api.act(ctx.admin.token, job.id, "start");
    await ctx.api.untilStatus(ctx.user.token, job.id, "COMPLETED");
  });

  it("stale task tokens are refused; stopping or starting twice is harmless", async () => {
    const ctx = await appWith({});
    await expect(ctx.engine.sendTaskSuccess("local:nope", { jobId: "x", status: "APPROVED" })).rejects.toBeInstanceOf(TaskNotWaitingError);
    await expect(ctx.engine.sendTaskFailure("local:nope", "E", "c")).rejects.toBeInstanceOf(TaskNotWaitingError);
    const job = await ctx.api.submit(ctx.user.token);
    await ctx.api.untilWaiting(job.id);
    const first = await ctx.engine.describe(job.id);
    await ctx.engine.startJob(job.id); // same name: no second execution
    expect(await ctx.engine.describe(job.id)).toEqual(first);
    const token = await parkedToken(ctx.core, job.id);
    await ctx.engine.stop(job.id, "test");
    await ctx.engine.stop(job.id, "test");
    expect((await ctx.engine.describe(job.id))?.status).toBe("ABORTED");
    await expect(ctx.engine.sendTaskSuccess(token, { jobId: job.id, status: "APPROVED" })).rejects.toBeInstanceOf(TaskNotWaitingError);
    expect(await ctx.engine.describe("01JZZZZZZZZZZZZZZZZZZZZZZZ")).toBeUndefined();
  });

  it("a failed start of the execution loses nothing: the job is stored (201) and the stream delivers its start again", async () => {
    const ctx = await appWith({});
    const startJob = ctx.engine.startJob;
    let refused = 0;
    ctx.engine.startJob = async (jobId) => {
      if (refused++ === 0) throw new Error("StartExecution: ServiceUnavailable");
      return startJob(jobId);
    };
    const job = await ctx.api.submit(ctx.user.token);
    expect(await ctx.api.job(ctx.user.token, job.id)).toMatchObject({ status: "PENDING" });
    expect(await ctx.api.quota(ctx.user.token)).toMatchObject({ reservedHours: 1 });
    // The reaction that starts it failed once (logged) and was delivered again.
    await ctx.api.untilWaiting(job.id);
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(ctx.logged).toContainEqual(
      expect.objectContaining({ level: "warn", message: "reaction failed; the record is delivered again" }),
    );
    expect((await ctx.api.act(ctx.admin.token, job.id, "approve")).status).toBe(200);
    await ctx.api.untilInState(job.id, "AwaitStart");
    await ctx.api.untilWaiting(job.id);
    await ctx.api.act(ctx.admin.token, job.id, "start");
    await ctx.api.untilStatus(ctx.user.token, job.id, "COMPLETED");
    expect(await ctx.api.quota(ctx.user.token)).toMatchObject({ reservedHours: 0, usedHours: 1 });
  });
});
