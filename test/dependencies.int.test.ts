/** Job dependencies over HTTP: an ended-failed dependency is refused at submission, start waits for
 * every dependency to be COMPLETED, an unsuccessful end cancels the dependents transitively (quota
 * released, executions ended), and `waiting` says what an open job waits for. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTable, readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

type Ctx = Awaited<ReturnType<typeof testApp>> & {
  api: ReturnType<typeof lifecycleApi>;
  admin: Awaited<ReturnType<typeof signUpAdmin>>;
};

async function setUp(env: Record<string, string>): Promise<Ctx> {
  const ctx = await testApp(env);
  return { ...ctx, api: lifecycleApi(ctx.app, ctx.engine), admin: await signUpAdmin(ctx.app, ctx.core) };
}

// Runs take an hour of wall-clock time per simulated hour, so a started job stays RUNNING.
describe("with runs that take their time", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ SIMULATION_SECONDS_PER_HOUR: "3600", SIMULATION_FAILURE_RATE: "0" });
  });
  afterAll(() => ctx.engine.shutdown());

  /** A ← B ← C: B depends on A, C on B. */
  async function chain(token: string) {
    const { api } = ctx;
    const a = await api.submit(token);
    const b = await api.submit(token, { dependsOn: [a.id] });
    const c = await api.submit(token, { dependsOn: [b.id] });
    return { a, b, c };
  }

  async function expectCancelledBy(token: string, jobId: string, dependencyId: string, dependencyStatus: string) {
    // The cascade is the reactions to each cancel, level by level.
    await ctx.settle();
    const job = await ctx.api.job(token, jobId);
    expect(job.status).toBe("CANCELLED");
    expect(job.waiting).toBeUndefined();
    const last = (await ctx.api.events(token, jobId)).at(-1)!;
    expect(last).toMatchObject({ status: "CANCELLED", actor: "system", reason: `dependency ${dependencyId} ended ${dependencyStatus}` });
    // Its execution was told and has ended.
    expect((await ctx.api.executionEnded(jobId)).status).toBe("SUCCEEDED");
  }

  it("a FAILED job cancels its dependents transitively, naming the failed dependency, and releases their quota", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const { a, b, c } = await chain(user.token);
    expect((await api.quota(user.token)).reservedHours).toBe(3);
    expect((await api.act(admin.token, a.id, "approve")).status).toBe(200);
    expect((await api.act(admin.token, b.id, "approve")).status).toBe(200);
    await api.untilWaiting(b.id);
    await api.untilWaiting(c.id);
    expect((await api.act(admin.token, a.id, "start")).status).toBe(200);
    const failed = await api.act(admin.token, a.id, "fail", { errorMessage: "node lost power" });
    expect(failed.body.status).toBe("FAILED");

    await expectCancelledBy(user.token, b.id, a.id, "FAILED");
    await expectCancelledBy(user.token, c.id, b.id, "CANCELLED");
    expect((await api.events(user.token, b.id)).map((e) => e.status)).toEqual(["PENDING", "APPROVED", "CANCELLED"]);
    expect((await api.events(user.token, c.id)).map((e) => e.status)).toEqual(["PENDING", "CANCELLED"]);
    expect((await api.quota(user.token)).reservedHours).toBe(0);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("a REJECTED job cancels its dependents transitively", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const { a, b, c } = await chain(user.token);
    expect((await api.act(admin.token, a.id, "reject", { reason: "no" })).body.status).toBe("REJECTED");
    await expectCancelledBy(user.token, b.id, a.id, "REJECTED");
    await expectCancelledBy(user.token, c.id, b.id, "CANCELLED");
    expect((await api.quota(user.token)).reservedHours).toBe(0);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("a job its owner cancels cancels its dependents, also one with several dependencies", async () => {
    const { api } = ctx;
    const user = await signUp(ctx.app);
    const { a, b, c } = await chain(user.token);
    const other = await api.submit(user.token);
    const both = await api.submit(user.token, { dependsOn: [other.id, a.id] });
    expect((await api.cancel(user.token, a.id)).body.status).toBe("CANCELLED");
    await expectCancelledBy(user.token, b.id, a.id, "CANCELLED");
    await expectCancelledBy(user.token, c.id, b.id, "CANCELLED");
    await expectCancelledBy(user.token, both.id, a.id, "CANCELLED");
    // The other dependency is untouched.
    expect((await api.job(user.token, other.id)).status).toBe("PENDING");
    expect((await api.quota(user.token)).reservedHours).toBe(1);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("start waits for every dependency to be COMPLETED: 409 DEPENDENCIES_NOT_MET and nothing changes, then it starts", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const a = await api.submit(user.token);
    const b = await api.submit(user.token, { dependsOn: [a.id] });
    await api.act(admin.token, a.id, "approve");
    await api.act(admin.token, b.id, "approve");
    await api.untilWaiting(b.id);

    const early = await api.act(admin.token, b.id, "start");
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: "DEPENDENCIES_NOT_MET", dependencies: [{ id: a.id, status: "APPROVED" }] });
    expect(early.body.error.message).toContain(`${a.id} is APPROVED`);

    expect((await api.act(admin.token, a.id, "start")).status).toBe(200);
    const before = await api.job(user.token, b.id);
    const eventsBefore = await api.events(user.token, b.id);
    const running = await api.act(admin.token, b.id, "start");
    expect(running.status).toBe(409);
    expect(running.body.error).toMatchObject({ code: "DEPENDENCIES_NOT_MET", dependencies: [{ id: a.id, status: "RUNNING" }] });
    expect(await api.job(user.token, b.id)).toEqual(before);
    expect(await api.events(user.token, b.id)).toEqual(eventsBefore);
    expect(before).toMatchObject({
      status: "APPROVED",
      waiting: { reason: "WAITING_FOR_DEPENDENCIES", dependencies: [{ id: a.id, status: "RUNNING" }] },
    });
    expect(await ctx.engine.isWaiting(b.id)).toBeTruthy();

    expect((await api.act(admin.token, a.id, "complete")).body.status).toBe("COMPLETED");
    expect((await api.job(user.token, b.id)).waiting).toEqual({
      reason: "AWAITING_START",
      message: "Ready; waiting for an admin to start it",
    });
    const started = await api.act(admin.token, b.id, "start");
    expect(started.status).toBe(200);
    expect(started.body.status).toBe("RUNNING");
    expect(started.body.waiting).toBeUndefined();
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("refuses a dependency that already ended REJECTED, FAILED or CANCELLED with 400 DEPENDENCY_FAILED, writing nothing", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const rejected = await api.submit(user.token);
    await api.act(admin.token, rejected.id, "reject", { reason: "no" });
    const cancelled = await api.submit(user.token);
    await api.cancel(user.token, cancelled.id);
    const failed = await api.submit(user.token);
    await api.act(admin.token, failed.id, "approve");
    await api.act(admin.token, failed.id, "start");
    await api.act(admin.token, failed.id, "fail", { errorMessage: "x" });
    const open = await api.submit(user.token);
    const stranger = await signUp(ctx.app);
    const foreignFailed = await api.submit(stranger.token);
    await api.cancel(stranger.token, foreignFailed.id);

    const table = await readTable(ctx.core.db);
    for (const [dep, status] of [
      [rejected.id, "REJECTED"],
      [cancelled.id, "CANCELLED"],
      [failed.id, "FAILED"],
    ] as const) {
      const res = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, body: validJob({ dependsOn: [open.id, dep] }) });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "DEPENDENCY_FAILED", dependencies: [{ id: dep, status }] });
      expect(res.body.error.message).toContain(`job ${dep} has already ended ${status}`);
    }
    // Someone else's job is reported as missing, whatever its status.
    const foreign = await call(ctx.app, "POST", "/api/v1/jobs", {
      token: user.token,
      body: validJob({ dependsOn: [failed.id, foreignFailed.id] }),
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toContain(foreignFailed.id);
    expect(foreign.body.error.message).not.toContain("CANCELLED");
    expect(await readTable(ctx.core.db)).toEqual(table);

    // Repeating an id stays a validation error.
    const repeated = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, body: validJob({ dependsOn: [open.id, open.id] }) });
    expect(repeated.status).toBe(400);
    expect(repeated.body.error.code).toBe("VALIDATION_ERROR");
  });

  it("writes one dependents-index item per dependency, in the dependency's partition", async () => {
    const { api } = ctx;
    const user = await signUp(ctx.app);
    const a = await api.submit(user.token);
    const b = await api.submit(user.token);
    const c = await api.submit(user.token, { dependsOn: [a.id, b.id] });
    const items = (await readTable(ctx.core.db)).filter((i) => i.type === "JobDependent" && i.jobId === c.id);
    expect(items).toEqual(
      expect.arrayContaining([
        { pk: `JOB#${a.id}`, sk: `DEPENDENT#${c.id}`, type: "JobDependent", jobId: c.id, dependsOn: a.id },
        { pk: `JOB#${b.id}`, sk: `DEPENDENT#${c.id}`, type: "JobDependent", jobId: c.id, dependsOn: b.id },
      ]),
    );
    expect(items).toHaveLength(2);
    // A dependency's history is still only its events.
    expect((await api.events(user.token, a.id)).map((e) => e.status)).toEqual(["PENDING"]);
  });

  it("waiting: AWAITING_APPROVAL, WAITING_FOR_DEPENDENCIES with statuses, AWAITING_START, none once running", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const done = await api.submit(user.token);
    await api.act(admin.token, done.id, "approve");
    await api.act(admin.token, done.id, "start");
    await api.act(admin.token, done.id, "complete");
    const pending = await api.submit(user.token);
    const approved = await api.submit(user.token);
    await api.act(admin.token, approved.id, "approve");
    const job = await api.submit(user.token, { dependsOn: [done.id, pending.id, approved.id] });
    expect(job.waiting).toEqual({ reason: "AWAITING_APPROVAL", message: "Waiting for an admin to approve it" });
    expect((await api.job(user.token, job.id)).waiting).toEqual(job.waiting);

    const approvedJob = await api.act(admin.token, job.id, "approve");
    const waiting = {
      reason: "WAITING_FOR_DEPENDENCIES",
      dependencies: [
        { id: done.id, status: "COMPLETED" },
        { id: pending.id, status: "PENDING" },
        { id: approved.id, status: "APPROVED" },
      ],
      message: `Waiting for 2 of 3 dependencies: ${pending.id} is PENDING, ${approved.id} is APPROVED`,
    };
    expect(approvedJob.body.waiting).toEqual(waiting);
    expect((await api.job(user.token, job.id)).waiting).toEqual(waiting);
    // List items carry it too (the owner's list and the admin's).
    const mine = (await call(ctx.app, "GET", "/api/v1/jobs?limit=100", { token: user.token })).body.items;
    expect(mine.find((j: { id: string }) => j.id === job.id).waiting).toEqual(waiting);
    expect(mine.find((j: { id: string }) => j.id === done.id).waiting).toBeUndefined();
    expect(mine.find((j: { id: string }) => j.id === pending.id).waiting.reason).toBe("AWAITING_APPROVAL");
    const all = (await call(ctx.app, "GET", "/api/v1/admin/jobs?status=APPROVED&limit=100", { token: admin.token })).body.items;
    expect(all.find((j: { id: string }) => j.id === job.id).waiting).toEqual(waiting);
    expect(all.find((j: { id: string }) => j.id === approved.id).waiting.reason).toBe("AWAITING_START");

    const running = await api.submit(user.token);
    await api.act(admin.token, running.id, "approve");
    expect((await api.act(admin.token, running.id, "start")).body.waiting).toBeUndefined();
    expect((await api.job(user.token, running.id)).waiting).toBeUndefined();
  });

  it("in an org, an org-mate's dependent is cancelled too: its owner's quota and the org's spend are released", async () => {
    const { api, admin } = ctx;
    const [owner, member] = [await signUp(ctx.app), await signUp(ctx.app)];
    const org = (await call(ctx.app, "POST", "/api/v1/orgs", { token: owner.token, body: { name: `Deps ${Date.now()}` } })).body;
    expect((await call(ctx.app, "POST", "/api/v1/orgs/join", { token: member.token, body: { inviteCode: org.inviteCode } })).status).toBe(
      200,
    );
    const a = await api.submit(owner.token, { orgId: org.id });
    const b = await api.submit(member.token, { orgId: org.id, dependsOn: [a.id] });
    expect((await api.act(admin.token, a.id, "reject", { reason: "no" })).status).toBe(200);
    await expectCancelledBy(member.token, b.id, a.id, "REJECTED");
    expect((await api.quota(member.token)).reservedHours).toBe(0);
    // The org's owner sees the cancelled dependent in the org's list, no longer waiting.
    const listed = (await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs`, { token: owner.token })).body.items;
    expect(listed.find((j: { id: string }) => j.id === b.id)).toMatchObject({ status: "CANCELLED" });
    expect(listed.find((j: { id: string }) => j.id === b.id).waiting).toBeUndefined();
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("concurrent cascades and actions on the dependents leave every dependent CANCELLED once, quota consistent", async () => {
    const { api, admin } = ctx;
    for (let round = 0; round < 3; round++) await concurrentRound(api, admin);
  });

  async function concurrentRound(api: Ctx["api"], admin: Ctx["admin"]) {
    const user = await signUp(ctx.app);
    const a = await api.submit(user.token, { estimatedHours: 0.5 });
    const b = await api.submit(user.token, { estimatedHours: 0.5 });
    const dependents = [];
    for (let i = 0; i < 6; i++)
      dependents.push(await api.submit(user.token, { estimatedHours: 0.5, dependsOn: i % 2 ? [a.id, b.id] : [a.id] }));
    const results = await Promise.all([
      api.cancel(user.token, a.id),
      api.cancel(user.token, b.id),
      ...dependents.slice(0, 3).map((d) => api.act(admin.token, d.id, "approve")),
      api.cancel(user.token, dependents[3]!.id),
    ]);
    for (const res of results) expect([200, 409]).toContain(res.status);
    await ctx.settle();
    for (const d of dependents) {
      const job = await api.job(user.token, d.id);
      expect(job.status).toBe("CANCELLED");
      expect((await api.events(user.token, d.id)).filter((e) => e.status === "CANCELLED")).toHaveLength(1);
      await api.executionEnded(d.id);
    }
    expect((await api.quota(user.token)).reservedHours).toBe(0);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  }
});

// Runs are instant and always fail: the workflow's RecordFailure ends the dependency.
describe("with instant runs that fail", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setUp({ SIMULATION_FAILURE_RATE: "1" });
  });
  afterAll(() => ctx.engine.shutdown());

  it("a job the workflow records FAILED cancels its dependents transitively", async () => {
    const { api, admin } = ctx;
    const user = await signUp(ctx.app);
    const a = await api.submit(user.token);
    const b = await api.submit(user.token, { dependsOn: [a.id] });
    const c = await api.submit(user.token, { dependsOn: [b.id] });
    await api.act(admin.token, a.id, "approve");
    await api.act(admin.token, a.id, "start");
    await api.untilStatus(user.token, a.id, "FAILED");
    await api.untilStatus(user.token, c.id, "CANCELLED");
    expect((await api.events(user.token, b.id)).at(-1)).toMatchObject({ status: "CANCELLED", reason: `dependency ${a.id} ended FAILED` });
    expect((await api.events(user.token, c.id)).at(-1)).toMatchObject({
      status: "CANCELLED",
      reason: `dependency ${b.id} ended CANCELLED`,
    });
    await api.executionEnded(c.id);
    expect((await api.quota(user.token)).reservedHours).toBe(0);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });
});
