/** Restart safety of the local engine: executions live in memory, so a restart (or a crash) loses
 * them; the next engine resumes every open job from its stored status and none is left stuck. */

import { ensureTable } from "@gpuaas/core/aws";
import { createApp } from "@gpuaas/functions";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalWorkflowEngine } from "../packages/local/src/workflow-engine";
import { engineCore, testConfig, withReactions } from "./support/core";
import { signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

const engines: LocalWorkflowEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
});

/** One "process": a core, its engine and the app, on a table shared across restarts. */
function boot(config: ReturnType<typeof testConfig>, now?: () => Date) {
  const { core, engine } = engineCore(config, now ? { now } : {});
  engines.push(engine);
  const app = createApp(core);
  return { core, engine, app, api: lifecycleApi(app, engine) };
}

describe("restarting the local workflow engine", () => {
  it("resumes jobs left PENDING, APPROVED and RUNNING, and each finishes its lifecycle", async () => {
    // One simulated GPU-hour = 2 s, so a 1-hour job is mid-run when the engine dies.
    const config = testConfig({ SIMULATION_SECONDS_PER_HOUR: "2", SIMULATION_FAILURE_RATE: "0" });
    const first = boot(config);
    await ensureTable(first.core.db.client, first.core.db.table);
    const reactions = await withReactions(first.core);
    const admin = await signUpAdmin(first.app, first.core);
    const user = await signUp(first.app);

    const pending = await first.api.submit(user.token);
    const approved = await first.api.submit(user.token);
    const running = await first.api.submit(user.token, { gpuCount: 2 });
    await first.api.act(admin.token, approved.id, "approve");
    await first.api.act(admin.token, running.id, "approve");
    await first.api.act(admin.token, running.id, "start");
    await first.api.untilWaiting(pending.id);
    await first.api.untilWaiting(approved.id);
    await first.api.untilInState(running.id, "SimulateGpuRuntime");

    // The process dies: every execution is gone, the stored jobs are not.
    await reactions.stop();
    await first.engine.shutdown();
    expect((await first.engine.describe(running.id))?.status).toBe("ABORTED");

    const second = boot(config);
    await withReactions(second.core);
    expect(await second.engine.resumeOpenJobs()).toBe(3);
    expect(await second.engine.resumeOpenJobs()).toBe(0); // already running: not started twice

    // The running job finishes its simulated run (what was left of it) without anyone acting.
    const done = await second.api.untilStatus(user.token, running.id, "COMPLETED", 10_000);
    expect(done).toMatchObject({ usedGpuHours: 2, startedAt: expect.any(String) });
    const runMs = Date.parse(done.finishedAt) - Date.parse(done.startedAt);
    expect(runMs).toBeGreaterThanOrEqual(2000);

    // The waiting jobs wait again, on the new engine's tokens, and admins carry on as before.
    await second.api.untilWaiting(pending.id);
    await second.api.untilWaiting(approved.id);
    expect((await second.api.act(admin.token, pending.id, "approve")).status).toBe(200);
    await second.api.untilWaiting(pending.id);
    expect((await second.api.cancel(user.token, pending.id)).body.status).toBe("CANCELLED");
    expect((await second.api.act(admin.token, approved.id, "start")).status).toBe(200);
    await second.api.untilStatus(user.token, approved.id, "COMPLETED", 10_000);

    for (const id of [pending.id, approved.id, running.id]) {
      expect((await second.api.executionEnded(id)).status).toBe("SUCCEEDED");
    }
    expect(await second.api.quota(user.token)).toMatchObject({ reservedHours: 0, usedHours: 3 });
    expect((await second.api.events(user.token, running.id)).map((e) => e.status)).toEqual(["PENDING", "APPROVED", "RUNNING", "COMPLETED"]);
  });

  it("a run whose time passed while the engine was down completes straight away on resume", async () => {
    const config = testConfig({ SIMULATION_SECONDS_PER_HOUR: "1", SIMULATION_FAILURE_RATE: "0" });
    const first = boot(config);
    await ensureTable(first.core.db.client, first.core.db.table);
    const reactions = await withReactions(first.core);
    const admin = await signUpAdmin(first.app, first.core);
    const user = await signUp(first.app);
    const job = await first.api.submit(user.token);
    await first.api.act(admin.token, job.id, "approve");
    await first.api.act(admin.token, job.id, "start");
    await first.api.untilInState(job.id, "SimulateGpuRuntime");
    await reactions.stop();
    await first.engine.shutdown();

    // Downtime longer than the run: the next engine starts with the clock past its end.
    const later = new Date(Date.now() + 60_000);
    const second = boot(config, () => later);
    await withReactions(second.core);
    expect(await second.engine.resumeOpenJobs()).toBe(1);
    await second.engine.settled(job.id);
    const history = (await second.engine.describe(job.id))!.history;
    const wait = history.find((h) => h.type === "StateEntered" && h.state === "SimulateGpuRuntime");
    const next = history.find((h) => h.type === "StateEntered" && h.state === "DrawOutcome");
    expect(Date.parse(next!.at) - Date.parse(wait!.at)).toBeLessThan(500);
    expect(await second.api.job(user.token, job.id)).toMatchObject({
      status: "COMPLETED",
      usedGpuHours: 1,
      finishedAt: later.toISOString(),
    });
  });

  it("nothing to resume on a table without open jobs", async () => {
    const config = testConfig();
    const { core, engine } = boot(config);
    await ensureTable(core.db.client, core.db.table);
    expect(await engine.resumeOpenJobs()).toBe(0);
  });
});
