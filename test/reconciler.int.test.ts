/** The reconciler repairs what a crash between a commit and its follow-up leaves behind, and says
 * so: dependents of a job that ended unsuccessfully, an APPROVED job beside free capacity, an open
 * job without a running execution (restarted), one whose execution ended for good (closed), and an
 * execution still parked on a token whose answer was lost. A crash is simulated by stopping the
 * reactions (the table's stream consumer) before the change whose reactions it loses. */
import { resolve } from "node:path";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import type { Core } from "@gpuaas/core";
import { reconcile } from "@gpuaas/core/schedules";
import { afterEach, describe, expect, it } from "vitest";
import { queueKeys } from "../packages/core/src/admission/keys";
import { admissionPass } from "../packages/core/src/admission/pass";
import { forgetRecentPools, releaseCapacityItem, takeCapacityItem } from "../packages/core/src/cluster/store";
import { transactWrite } from "../packages/core/src/db/transact";
import { transitionJob } from "../packages/core/src/job/transitions";
import { ExecutionEndedError } from "../packages/core/src/workflow/port";
import { RECONCILER_HANDLER } from "../packages/functions/src/handlers";
import { localSchedules } from "../packages/local/src/stack";
import { auditTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

type Ctx = Awaited<ReturnType<typeof testApp>>;
const open: { engine: { shutdown(): Promise<void> } }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.engine.shutdown()));
});

async function world() {
  const ctx: Ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", DEFAULT_MONTHLY_GPU_HOURS: "1000" });
  open.push(ctx);
  const [admin, user] = await Promise.all([signUpAdmin(ctx.app, ctx.core), signUp(ctx.app)]);
  return { ctx, admin, user, api: lifecycleApi(ctx.app, ctx.engine) };
}

describe("the reconciler", () => {
  it("cancels the dependents a cut-short cascade left open, naming the failed job", async () => {
    const { ctx, admin, user, api } = await world();
    const a = await api.submit(user.token);
    const b = await api.submit(user.token, { dependsOn: [a.id] });
    const c = await api.submit(user.token, { dependsOn: [b.id] });
    await api.act(admin.token, a.id, "approve");
    await api.untilWaiting(a.id);
    await api.act(admin.token, a.id, "start");
    await ctx.settle();
    // A crash right after A's FAILED commit: its reactions (the cascade) never ran.
    await ctx.reactor!.stop();
    await transitionJob(ctx.core, a.id, {
      action: "fail",
      from: ["RUNNING"],
      to: "FAILED",
      actor: "system",
      reason: "node lost",
      details: { errorMessage: "node lost" },
      runtime: "elapsed",
    });
    expect((await api.job(user.token, b.id)).status).toBe("PENDING");

    const report = await reconcile(ctx.core);
    expect(report.dependentsCancelled.sort()).toEqual([b.id, c.id].sort());
    expect(await api.job(user.token, b.id)).toMatchObject({ status: "CANCELLED" });
    expect((await api.events(user.token, b.id)).at(-1)?.reason).toContain(a.id);
    expect((await api.job(user.token, c.id)).status).toBe("CANCELLED");
    expect(await auditTable(ctx.core.db)).toEqual([]);
    // Nothing left to repair: a second run changes nothing.
    expect(await reconcile(ctx.core)).toMatchObject({ dependentsCancelled: [], jobsClosed: [], admitted: [] });
  });

  it("admits an APPROVED job left beside free capacity", async () => {
    const { ctx, admin, user, api } = await world();
    const pool = await call(ctx.app, "POST", "/api/v1/admin/clusters", {
      token: admin.token,
      body: { name: "p", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 2, totalCpu: 16, totalRamGb: 64 },
    });
    // Someone holds the whole pool; the job is approved and waits for capacity.
    await transactWrite(ctx.core.db, [
      takeCapacityItem(ctx.core.db, pool.body.id, { gpus: 2, cpu: 0, ramGb: 0 }, new Date().toISOString()),
    ]);
    const job = await api.submit(user.token, { gpuCount: 2 });
    expect((await api.act(admin.token, job.id, "approve")).body.status).toBe("APPROVED");
    await api.untilInState(job.id, "AwaitStart");
    await api.untilWaiting(job.id);
    await ctx.settle();
    // The room comes back without the reactions that would have admitted it (a crash).
    await ctx.reactor!.stop();
    await transactWrite(ctx.core.db, [
      releaseCapacityItem(ctx.core.db, pool.body.id, { gpus: 2, cpu: 0, ramGb: 0 }, new Date().toISOString()),
    ]);

    const report = await reconcile(ctx.core);
    expect(report.admitted).toEqual([job.id]);
    expect(await api.job(user.token, job.id)).toMatchObject({ status: "RUNNING", clusterId: pool.body.id });
    // Its execution is still parked in AwaitStart: the answer to its token was a lost reaction too.
    expect((await ctx.engine.describe(job.id))?.currentState).toBe("AwaitStart");
    expect((await reconcile(ctx.core)).tasksAnsweredAgain).toBe(0); // too early to tell from a slow start
    // Well past the end of its run (1 h at 3600 s per hour) it still has not ended: answered again.
    const later = { ...ctx.core, now: () => new Date(Date.now() + 2 * 3600_000) };
    expect((await reconcile(later)).tasksAnsweredAgain).toBe(1);
    await api.untilInState(job.id, "SimulateGpuRuntime");
  });

  it("starts an execution again for an open job that has none (local engine)", async () => {
    const { ctx, admin, user, api } = await world();
    const job = await api.submit(user.token);
    await api.untilWaiting(job.id);
    await ctx.engine.stop(job.id, "test: the process running it died");
    expect((await ctx.engine.describe(job.id))?.status).not.toBe("RUNNING");

    const report = await reconcile(ctx.core);
    expect(report.executionsEnsured).toBe(1);
    await api.untilWaiting(job.id);
    // The restarted execution carries the job on: approve → parked in AwaitStart.
    expect((await api.act(admin.token, job.id, "approve")).status).toBe(200);
    await api.untilInState(job.id, "AwaitStart");
  });

  it("leaves alone a job its sweep listed open that ended before its execution was described", async () => {
    const { ctx, user, api } = await world();
    const job = await api.submit(user.token);
    await api.untilWaiting(job.id);
    let started = 0;
    // The race: the sweep's page says PENDING, then the job is cancelled and its execution ends.
    const racing: Core = {
      ...ctx.core,
      workflow: {
        ...ctx.core.workflow,
        describe: async (jobId) => {
          await transitionJob(ctx.core, jobId, { action: "cancel", from: ["PENDING"], to: "CANCELLED", actor: user.id, reason: "test" });
          return { name: jobId, status: "SUCCEEDED", startedAt: new Date().toISOString() };
        },
        startJob: async () => {
          started++;
        },
      },
    };
    const report = await reconcile(racing);
    expect(started).toBe(0);
    expect(report.executionsEnsured).toBe(0);
    expect(report.jobsClosed).toEqual([]);
    expect(await api.job(user.token, job.id)).toMatchObject({ status: "CANCELLED" });
  });

  it("closes an open job whose execution ended for good (a name Step Functions will not reuse), releasing its quota", async () => {
    const { ctx, admin, user, api } = await world();
    const pending = await api.submit(user.token);
    const running = await api.submit(user.token);
    await api.act(admin.token, running.id, "approve");
    await api.untilWaiting(running.id);
    await api.act(admin.token, running.id, "start");
    await api.untilInState(running.id, "SimulateGpuRuntime");
    // Their executions end (in AWS: failed, timed out or were stopped by hand) while the jobs stay open.
    await ctx.engine.stop(pending.id, "test: execution lost");
    await ctx.engine.stop(running.id, "test: execution lost");
    // What the Step Functions adapter answers for an ended execution of an open job.
    const ended: Core = {
      ...ctx.core,
      workflow: {
        ...ctx.core.workflow,
        describe: async (jobId) => ({ name: jobId, status: "FAILED", startedAt: new Date().toISOString() }),
        startJob: async (jobId) => {
          throw new ExecutionEndedError(`Execution ${jobId} already ended`);
        },
        stop: async () => undefined,
      },
    };
    const report = await reconcile(ended);
    expect(report.jobsClosed.sort()).toEqual([pending.id, running.id].sort());
    expect(await api.job(user.token, pending.id)).toMatchObject({ status: "CANCELLED" });
    expect(await api.job(user.token, running.id)).toMatchObject({ status: "FAILED", errorMessage: expect.stringContaining("reconciler") });
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).body.quota.reservedHours).toBe(0);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("runs every 5 minutes: in npm start's scheduler and as a Lambda named in handlers.ts", async () => {
    const { ctx } = await world();
    const task = localSchedules(ctx.core).find((t) => t.name === "reconciler")!;
    expect(task.nextRun(new Date("2026-11-23T10:02:30Z")).toISOString()).toBe("2026-11-23T10:05:00.000Z");
    expect(task.nextRun(new Date("2026-11-23T10:05:00Z")).toISOString()).toBe("2026-11-23T10:10:00.000Z");
    const [file, exported] = [
      RECONCILER_HANDLER.slice(0, RECONCILER_HANDLER.lastIndexOf(".")),
      RECONCILER_HANDLER.slice(RECONCILER_HANDLER.lastIndexOf(".") + 1),
    ];
    const mod = await import(resolve(import.meta.dirname, "..", `${file}.ts`));
    expect(mod[exported]).toBeTypeOf("function");
  });

  it("restores a queue-index entry that is missing, and then admits the job", async () => {
    const { ctx, admin, user, api } = await world();
    const pool = await call(ctx.app, "POST", "/api/v1/admin/clusters", {
      token: admin.token,
      body: { name: "p", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 1, totalCpu: 16, totalRamGb: 64 },
    });
    await transactWrite(ctx.core.db, [
      takeCapacityItem(ctx.core.db, pool.body.id, { gpus: 1, cpu: 0, ramGb: 0 }, new Date().toISOString()),
    ]);
    const job = await api.submit(user.token);
    await api.act(admin.token, job.id, "approve");
    await api.untilWaiting(job.id);
    await ctx.settle();
    await ctx.reactor!.stop();
    // A write that never landed: no entry.
    const approved = (await api.job(admin.token, job.id)) as { id: string; priority: "medium" };
    await ctx.core.db.doc.send(new DeleteCommand({ TableName: ctx.core.db.table, Key: queueKeys.waiting("A100", approved) }));
    await transactWrite(ctx.core.db, [
      releaseCapacityItem(ctx.core.db, pool.body.id, { gpus: 1, cpu: 0, ramGb: 0 }, new Date().toISOString()),
    ]);
    expect(await admissionPass(ctx.core, "A100")).toEqual([]); // admission only sees the index

    const report = await reconcile(ctx.core);
    expect(report).toMatchObject({ queueEntriesRestored: 1, admitted: [job.id] });
    expect((await api.job(user.token, job.id)).status).toBe("RUNNING");
  });
});

describe("admission reads", () => {
  it("reads only its GPU type's waiting and running jobs, however many other types have", async () => {
    const { ctx, admin, user, api } = await world();
    for (const gpuType of ["A100", "H100"]) {
      await call(ctx.app, "POST", "/api/v1/admin/clusters", {
        token: admin.token,
        body: { name: gpuType, provider: "aws", region: "us-east-1", gpuType, totalGpus: 1, totalCpu: 16, totalRamGb: 64 },
      });
    }
    // One A100 running and two waiting; ten times as many H100 jobs waiting.
    const a100 = [];
    for (let i = 0; i < 3; i++) a100.push((await api.submit(user.token, { gpuType: "A100" })).id);
    const h100 = [];
    for (let i = 0; i < 30; i++) h100.push((await api.submit(user.token, { gpuType: "H100" })).id);
    for (const id of [...a100, ...h100]) expect((await api.act(admin.token, id, "approve")).status).toBe(200);
    await ctx.settle();
    forgetRecentPools(ctx.core.db, "A100");

    let itemsRead = 0;
    const send = ctx.core.db.doc.send.bind(ctx.core.db.doc);
    const counting = Object.assign(Object.create(ctx.core.db.doc), {
      send: async (command: any) => {
        const out: any = await send(command);
        itemsRead +=
          (out.Items?.length ?? 0) + (out.Item ? 1 : 0) + Object.values(out.Responses ?? {}).reduce((n: number, r: any) => n + r.length, 0);
        return out;
      },
    });
    const started = await admissionPass({ ...ctx.core, db: { ...ctx.core.db, doc: counting } }, "A100");
    expect(started).toEqual([]); // the pool is full
    // The pool (from its index, then read consistently) + 1 RUN# and 2 WAIT# queue entries, which carry
    // what planning needs (no job is read); nothing of the H100 queue.
    expect(itemsRead).toBe(5);
  });
});
