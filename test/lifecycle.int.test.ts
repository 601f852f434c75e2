/** Job lifecycles end to end: HTTP app → core transitions in DynamoDB Local → the state machine
 * definition run by the local interpreter. Stored state, history and quota after every path. */

import { recordCompletion } from "@gpuaas/core/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJobItem } from "../packages/core/src/job/store";
import { transitionJobsTogether } from "../packages/core/src/job/transitions";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";
import { eventually, sleep } from "./support/wait";

type Ctx = Awaited<ReturnType<typeof testApp>> & {
  api: ReturnType<typeof lifecycleApi>;
  admin: Awaited<ReturnType<typeof signUpAdmin>>;
};

async function setUp(env: Record<string, string>): Promise<Ctx> {
  const ctx = await testApp(env);
  return { ...ctx, api: lifecycleApi(ctx.app, ctx.engine), admin: await signUpAdmin(ctx.app, ctx.core) };
}

const period = () => new Date().toISOString().slice(0, 7);
const quotaOf = (reservedHours: number, usedHours: number, limitHours = 10) => ({
  period: period(),
  limitHours,
  reservedHours,
  usedHours,
  remainingHours: limitHours - reservedHours - usedHours,
});

// Instant simulated runs that always succeed.
describe("with instant runs that succeed", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ SIMULATION_FAILURE_RATE: "0" });
  });
  afterAll(() => ctx.engine.shutdown());

  it("approve → start → COMPLETED: timestamps, cost, settled quota, history and the execution's path", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token, { gpuType: "A100", provider: "aws", gpuCount: 2, estimatedHours: 1.5 });
    expect(job).toMatchObject({ status: "PENDING", reservedGpuHours: 3, estimatedCostUsd: "12.30" });
    expect(await api.quota(user.token)).toEqual(quotaOf(3, 0));

    const approved = await api.act(admin.token, job.id, "approve");
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "APPROVED", approvedBy: admin.id });
    expect(approved.body.approvedAt).toEqual(expect.any(String));
    await api.untilWaiting(job.id);
    // The status index moved with the job.
    const listed = async (status: string) =>
      (await call(ctx.app, "GET", `/api/v1/admin/jobs?status=${status}&limit=100`, { token: admin.token })).body.items.map(
        (j: { id: string }) => j.id,
      );
    expect(await listed("APPROVED")).toContain(job.id);
    expect(await listed("PENDING")).not.toContain(job.id);

    const started = await api.act(admin.token, job.id, "start");
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: "RUNNING" });
    expect(started.body.startedAt).toEqual(expect.any(String));

    const done = await api.untilStatus(user.token, job.id, "COMPLETED");
    expect(done).toMatchObject({ usedGpuHours: 3, actualCostUsd: "12.30", startedAt: started.body.startedAt });
    expect(done.finishedAt >= done.startedAt).toBe(true);
    expect(done.errorMessage).toBeUndefined();
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 3));
    expect(await listed("COMPLETED")).toContain(job.id);
    expect(await listed("RUNNING")).not.toContain(job.id);
    expect(JSON.stringify(done)).not.toContain("taskToken");

    const events = await api.events(user.token, job.id);
    expect(events.map((e) => [e.status, e.actor])).toEqual([
      ["PENDING", user.id],
      ["APPROVED", admin.id],
      ["RUNNING", admin.id],
      ["COMPLETED", "workflow"],
    ]);
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort());

    await api.executionEnded(job.id);
    const workflow = await call(ctx.app, "GET", `/api/v1/admin/jobs/${job.id}/workflow`, { token: admin.token });
    expect(workflow.status).toBe(200);
    expect(workflow.body.execution).toMatchObject({ name: job.id, status: "SUCCEEDED" });
    const entered = (workflow.body.execution.history as { type: string; state?: string }[])
      .filter((h) => h.type === "StateEntered")
      .map((h) => h.state);
    expect(entered).toEqual([
      "ApplyApprovalPolicy",
      "RouteByStatus",
      "AwaitApproval",
      "RouteByStatus",
      "AwaitStart",
      "RouteByStatus",
      "PlanGpuRuntime",
      "SimulateGpuRuntime",
      "DrawOutcome",
      "RouteByOutcome",
      "RecordCompletion",
      "JobClosed",
    ]);
  });

  it("approve races ahead of the workflow parking its token, and the job still runs to the end", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token);
    // No waiting for the workflow between the actions.
    expect((await api.act(admin.token, job.id, "approve")).status).toBe(200);
    expect((await api.act(admin.token, job.id, "start")).status).toBe(200);
    await api.untilStatus(user.token, job.id, "COMPLETED");
    expect((await api.executionEnded(job.id)).status).toBe("SUCCEEDED");
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 1));
  });

  it("a transition decided on a read from before the workflow parked its token still answers that token", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token);
    const parked = await eventually("the token parked on the job", async () => {
      const item = await getJobItem(ctx.core.db, job.id, true);
      return item?.taskToken ? item : undefined;
    });
    // As an admission pass or an admin that read the job a moment before AwaitApproval parked.
    const readBefore = { ...parked, taskToken: undefined };
    await transitionJobsTogether(
      ctx.core,
      [{ before: readBefore, request: { action: "approve", from: ["PENDING"], to: "APPROVED", actor: admin.id } }],
      () => [],
    );
    const stored = (await getJobItem(ctx.core.db, job.id, true))!;
    expect(stored).toMatchObject({ status: "APPROVED", answeredToken: parked.taskToken });
    expect(stored.taskToken).toBeUndefined();
    // The stream's old image carries the token: the execution is told and moves on to wait for its start.
    await api.untilInState(job.id, "AwaitStart");
    expect((await api.act(admin.token, job.id, "start")).status).toBe(200);
    await api.untilStatus(user.token, job.id, "COMPLETED");
    expect((await api.executionEnded(job.id)).status).toBe("SUCCEEDED");
  });

  it("reject needs a reason, releases the reservation in full and ends the execution", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token, { estimatedHours: 4 });
    await api.untilWaiting(job.id);

    const noReason = await api.act(admin.token, job.id, "reject", {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.code).toBe("VALIDATION_ERROR");
    expect((await api.act(admin.token, job.id, "reject")).status).toBe(400);

    const rejected = await api.act(admin.token, job.id, "reject", { reason: "dataset not cleared" });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: "REJECTED", rejectionReason: "dataset not cleared" });
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
    expect((await api.executionEnded(job.id)).status).toBe("SUCCEEDED");

    const events = await api.events(user.token, job.id);
    expect(events.at(-1)).toMatchObject({ status: "REJECTED", actor: admin.id, reason: "dataset not cleared" });

    // Nothing moves a rejected job, and a refused action changes nothing.
    for (const action of ["approve", "reject", "start", "complete"] as const) {
      const res = await api.act(admin.token, job.id, action, action === "reject" ? { reason: "again" } : undefined);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: "INVALID_TRANSITION", currentStatus: "REJECTED" });
    }
    expect((await api.cancel(user.token, job.id)).body.error.currentStatus).toBe("REJECTED");
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
    expect(await api.events(user.token, job.id)).toHaveLength(2);
  });

  it("refuses out-of-order actions with 409 naming the current status, leaving job and quota as they were", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token, { estimatedHours: 2 });
    await api.untilWaiting(job.id);

    const cases = [
      ["start", undefined, "PENDING"],
      ["complete", undefined, "PENDING"],
      ["fail", { errorMessage: "x" }, "PENDING"],
    ] as const;
    for (const [action, body, current] of cases) {
      const res = await api.act(admin.token, job.id, action, body);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: "INVALID_TRANSITION", currentStatus: current });
      expect(res.body.error.message).toContain(`Cannot ${action} a job that is ${current}`);
    }
    await api.act(admin.token, job.id, "approve");
    for (const action of ["approve", "complete"] as const) {
      const res = await api.act(admin.token, job.id, action);
      expect(res.status).toBe(409);
      expect(res.body.error.currentStatus).toBe("APPROVED");
    }
    const res = await api.act(admin.token, job.id, "reject", { reason: "too late" });
    expect(res.body.error.currentStatus).toBe("APPROVED");

    expect(await api.job(user.token, job.id)).toMatchObject({ status: "APPROVED" });
    expect(await api.quota(user.token)).toEqual(quotaOf(2, 0));
    expect((await api.events(user.token, job.id)).map((e) => e.status)).toEqual(["PENDING", "APPROVED"]);
  });

  it("two racing admins: exactly one wins, the loser gets 409 with the winner's status", async () => {
    const { api, admin } = ctx;
    const other = await signUpAdmin(ctx.app, ctx.core);
    const user = await signUp(ctx.app);
    for (let round = 0; round < 4; round++) {
      const job = await api.submit(user.token);
      if (round % 2) await api.untilWaiting(job.id);
      const [approve, reject] = await Promise.all([
        api.act(admin.token, job.id, "approve"),
        api.act(other.token, job.id, "reject", { reason: "no" }),
      ]);
      const statuses = [approve.status, reject.status].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = approve.status === 200 ? "APPROVED" : "REJECTED";
      const loser = approve.status === 200 ? reject : approve;
      expect(loser.body.error).toMatchObject({ code: "INVALID_TRANSITION", currentStatus: winner });
      expect(await api.job(user.token, job.id)).toMatchObject({ status: winner });
      expect((await api.events(user.token, job.id)).map((e) => e.status)).toEqual(["PENDING", winner]);
      if (winner === "APPROVED") await api.cancel(user.token, job.id);
    }
    // Every job was rejected or cancelled before it ran: nothing held, nothing used.
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
  });

  it("many admins approving at once: one 200, the rest 409 APPROVED, one history entry", async () => {
    const { api } = ctx;
    const admins = await Promise.all(Array.from({ length: 5 }, () => signUpAdmin(ctx.app, ctx.core)));
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token);
    const results = await Promise.all(admins.map((a) => api.act(a.token, job.id, "approve")));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.error.currentStatus === "APPROVED")).toHaveLength(4);
    expect((await api.events(user.token, job.id)).filter((e) => e.status === "APPROVED")).toHaveLength(1);
    await api.untilWaiting(job.id);
    await api.cancel(user.token, job.id);
  });

  it("owner cancels while PENDING and while APPROVED: CANCELLED, reservation released in full", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const pending = await api.submit(user.token, { estimatedHours: 2 });
    const approved = await api.submit(user.token, { estimatedHours: 3 });
    await api.act(admin.token, approved.id, "approve");
    await api.untilWaiting(pending.id);
    await api.untilWaiting(approved.id);
    expect(await api.quota(user.token)).toEqual(quotaOf(5, 0));

    const a = await api.cancel(user.token, pending.id, { reason: "wrong image" });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ status: "CANCELLED" });
    expect(await api.quota(user.token)).toEqual(quotaOf(3, 0));
    const b = await api.cancel(user.token, approved.id);
    expect(b.body).toMatchObject({ status: "CANCELLED" });
    expect(b.body.usedGpuHours).toBeUndefined();
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));

    expect((await api.executionEnded(pending.id)).status).toBe("SUCCEEDED");
    expect((await api.executionEnded(approved.id)).status).toBe("SUCCEEDED");
    expect((await api.events(user.token, pending.id)).at(-1)).toMatchObject({ status: "CANCELLED", actor: user.id, reason: "wrong image" });

    const again = await api.cancel(user.token, pending.id);
    expect(again.status).toBe(409);
    expect(again.body.error.currentStatus).toBe("CANCELLED");
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
  });

  it("only the owner (or an admin) can cancel: someone else's job is 404", async () => {
    const { api } = ctx;
    const owner = await signUp(ctx.app);
    const stranger = await signUp(ctx.app);
    const job = await api.submit(owner.token);
    const res = await api.cancel(stranger.token, job.id);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
    expect(await api.job(owner.token, job.id)).toMatchObject({ status: "PENDING" });
    expect((await api.cancel(owner.token, "01JZZZZZZZZZZZZZZZZZZZZZZZ")).status).toBe(404);
    expect((await api.cancel(owner.token, "not-an-id")).status).toBe(404);
    const byAdmin = await api.cancel(ctx.admin.token, job.id);
    expect(byAdmin.body).toMatchObject({ status: "CANCELLED" });
    expect((await api.events(owner.token, job.id)).at(-1)).toMatchObject({ actor: ctx.admin.id, reason: "cancelled by an admin" });
  });

  it("admin routes: 401 without a token, 403 for a user, 404 for a missing job, 400 for bad bodies", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token);
    for (const action of ["approve", "reject", "start", "complete", "fail"] as const) {
      const anonymous = await call(ctx.app, "POST", `/api/v1/admin/jobs/${job.id}/${action}`);
      expect(anonymous.status).toBe(401);
      const asUser = await api.act(user.token, job.id, action, { reason: "x", errorMessage: "x" });
      expect(asUser.status).toBe(403);
      expect(asUser.body.error.code).toBe("FORBIDDEN");
      const missing = await api.act(
        admin.token,
        "01JZZZZZZZZZZZZZZZZZZZZZZZ",
        action,
        action === "reject" ? { reason: "r" } : action === "fail" ? { errorMessage: "e" } : undefined,
      );
      expect(missing.status).toBe(404);
    }
    expect((await call(ctx.app, "GET", `/api/v1/admin/jobs/${job.id}/workflow`, { token: user.token })).status).toBe(403);
    expect((await call(ctx.app, "GET", `/api/v1/admin/jobs/01JZZZZZZZZZZZZZZZZZZZZZZZ/workflow`, { token: admin.token })).status).toBe(404);
    const notJson = await call(ctx.app, "POST", `/api/v1/admin/jobs/${job.id}/approve`, { token: admin.token, rawBody: "{nope" });
    expect(notJson.status).toBe(400);
    const unknownField = await api.act(admin.token, job.id, "approve", { status: "RUNNING" });
    expect(unknownField.status).toBe(400);
    expect((await api.act(admin.token, job.id, "fail", { errorMessage: "" })).status).toBe(400);
    expect(await api.job(user.token, job.id)).toMatchObject({ status: "PENDING" });
    expect(await api.quota(user.token)).toEqual(quotaOf(1, 0));
  });
});

describe("with instant runs that fail", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ SIMULATION_FAILURE_RATE: "1" });
  });
  afterAll(() => ctx.engine.shutdown());

  it("approve → start → FAILED with a drawn errorMessage; quota settled to the run", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await api.submit(user.token, { gpuType: "T4", provider: "gcp", estimatedHours: 2 });
    await api.act(admin.token, job.id, "approve");
    await api.act(admin.token, job.id, "start");
    const failed = await api.untilStatus(user.token, job.id, "FAILED");
    expect(failed.errorMessage).toEqual(expect.any(String));
    expect(failed).toMatchObject({ usedGpuHours: 2, actualCostUsd: "0.70" });
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 2));
    expect((await api.events(user.token, job.id)).at(-1)).toMatchObject({
      status: "FAILED",
      actor: "workflow",
      reason: failed.errorMessage,
    });
    const execution = await api.executionEnded(job.id);
    expect(execution.status).toBe("SUCCEEDED");
    expect(execution.history.some((h) => h.type === "StateEntered" && h.state === "RecordFailure")).toBe(true);
  });
});

// Simulated hours that last: one GPU-hour is an hour of wall-clock time, so runs are ended by hand.
describe("with runs that take their time", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ SIMULATION_SECONDS_PER_HOUR: "3600", SIMULATION_FAILURE_RATE: "0" });
  });
  afterAll(() => ctx.engine.shutdown());

  async function runningJob(user: { token: string }, overrides: Record<string, unknown> = {}) {
    const job = await ctx.api.submit(user.token, overrides);
    await ctx.api.act(ctx.admin.token, job.id, "approve");
    await ctx.api.act(ctx.admin.token, job.id, "start");
    await ctx.api.untilInState(job.id, "SimulateGpuRuntime");
    return job;
  }

  it("admin fail during the wait ends the job early; the simulated ending never overwrites it", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await runningJob(user, { estimatedHours: 2 });
    expect(await api.quota(user.token)).toEqual(quotaOf(2, 0));

    const failed = await api.act(admin.token, job.id, "fail", { errorMessage: "node lost power" });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: "FAILED", errorMessage: "node lost power", usedGpuHours: 0, actualCostUsd: "0.00" });
    // Settled to the (tiny) simulated time it ran, not to its estimate.
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
    expect((await api.executionEnded(job.id)).status).toBe("ABORTED");

    // Even if the execution had gone on, its recording step is conditional: it changes nothing.
    expect(await recordCompletion({ jobId: job.id }, ctx.core)).toEqual({ jobId: job.id, status: "FAILED" });
    await sleep(50);
    const stored = await getJobItem(ctx.core.db, job.id, true);
    expect(stored).toMatchObject({ status: "FAILED", errorMessage: "node lost power" });
    expect((await api.events(user.token, job.id)).map((e) => [e.status, e.actor])).toEqual([
      ["PENDING", user.id],
      ["APPROVED", admin.id],
      ["RUNNING", admin.id],
      ["FAILED", admin.id],
    ]);
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
  });

  it("admin complete during the wait: COMPLETED early, charged for the time it ran", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const job = await runningJob(user);
    const done = await api.act(admin.token, job.id, "complete", { reason: "converged early" });
    expect(done.body).toMatchObject({ status: "COMPLETED", usedGpuHours: 0 });
    expect((await api.executionEnded(job.id)).status).toBe("ABORTED");
    expect((await api.events(user.token, job.id)).at(-1)).toMatchObject({
      status: "COMPLETED",
      actor: admin.id,
      reason: "converged early",
    });
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
    expect((await api.act(admin.token, job.id, "fail", { errorMessage: "late" })).body.error.currentStatus).toBe("COMPLETED");
  });

  it("owner cancels while RUNNING: CANCELLED, settled (not released) and the execution stopped", async () => {
    const { api } = ctx;
    const user = await signUp(ctx.app);
    const job = await runningJob(user, { estimatedHours: 3 });
    const res = await api.cancel(user.token, job.id);
    expect(res.body).toMatchObject({ status: "CANCELLED", usedGpuHours: 0, actualCostUsd: "0.00" });
    expect(res.body.finishedAt).toEqual(expect.any(String));
    expect((await api.executionEnded(job.id)).status).toBe("ABORTED");
    expect(await api.quota(user.token)).toEqual(quotaOf(0, 0));
  });
});

describe("auto-approve policy", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ AUTO_APPROVE_MAX_GPU_HOURS: "4", SIMULATION_FAILURE_RATE: "0" });
  });
  afterAll(() => ctx.engine.shutdown());

  it("approves small non-sensitive jobs without an admin; sensitive or larger ones wait for one", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const small = await api.submit(user.token, { gpuCount: 2, estimatedHours: 2 });
    const sensitive = await api.submit(user.token, { estimatedHours: 1, sensitive: true });
    const large = await api.submit(user.token, { gpuCount: 3, estimatedHours: 1.5 });

    // Approved by the submission itself: the answer is APPROVED, the history has both steps, in order.
    expect(small).toMatchObject({ status: "APPROVED", approvedBy: "system" });
    expect((await api.job(user.token, small.id)).approvedBy).toBe("system");
    expect((await api.events(user.token, small.id)).map((e: any) => [e.status, e.actor])).toEqual([
      ["PENDING", user.id],
      ["APPROVED", "system"],
    ]);
    expect((await api.events(user.token, small.id)).at(-1)).toMatchObject({ reason: expect.stringContaining("auto-approved") });
    expect(sensitive.status).toBe("PENDING");
    expect(large.status).toBe("PENDING");

    await api.untilWaiting(sensitive.id);
    await api.untilWaiting(large.id);
    expect(await api.job(user.token, sensitive.id)).toMatchObject({ status: "PENDING" });
    expect(await api.job(user.token, large.id)).toMatchObject({ status: "PENDING" });

    // The auto-approved job waits for its start like any other.
    await api.untilWaiting(small.id);
    await api.act(admin.token, small.id, "start");
    await api.untilStatus(user.token, small.id, "COMPLETED");
    expect(await api.quota(user.token)).toEqual(quotaOf(1 + 4.5, 4));
  });
});
