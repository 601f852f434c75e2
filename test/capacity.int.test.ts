/** Capacity at a job's start and end (issue 9): a start (automatic admission at approval or when
 * room frees, or an admin's) takes room on the cheapest pool that has it (an admin's start is 409
 * NO_CAPACITY when none has, nothing changed), the job records the pool and is charged at its
 * price, the end gives the room back; a request no pool could ever hold is NEVER_FITS at
 * submission; jobs of a GPU type without pools wait for an admin's start as before. */

import { afterEach, describe, expect, it } from "vitest";
import { releaseCapacityItem, takeCapacityItem } from "../packages/core/src/cluster/store";
import { transactWrite } from "../packages/core/src/db/transact";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

type Ctx = Awaited<ReturnType<typeof testApp>>;
const open: Ctx[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.engine.shutdown()));
});

/** A fresh table (pools are global per GPU type), an admin, a user and the lifecycle helpers. */
async function world() {
  // Runs take an hour per GPU-hour: a started job holds its pool until an admin ends it.
  const ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", DEFAULT_MONTHLY_GPU_HOURS: "1000" });
  open.push(ctx);
  const [admin, user] = await Promise.all([signUpAdmin(ctx.app, ctx.core), signUp(ctx.app)]);
  const api = lifecycleApi(ctx.app, ctx.engine);
  const createPool = async (body: Record<string, unknown>) => {
    const res = await call(ctx.app, "POST", "/api/v1/admin/clusters", {
      token: admin.token,
      body: { name: "pool", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 2, totalCpu: 64, totalRamGb: 512, ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await ctx.settle();
    return res.body as { id: string; [k: string]: any };
  };
  const getPool = async (id: string) => (await call(ctx.app, "GET", `/api/v1/clusters/${id}`, { token: admin.token })).body;
  /** A job of the user's, approved and left waiting (no room, or no pool), its execution parked in AwaitStart. */
  const approved = async (overrides: Record<string, unknown> = {}) => {
    const { id } = await api.submit(user.token, overrides);
    const res = await api.act(admin.token, id, "approve");
    expect(res.body).toMatchObject({ status: "APPROVED" });
    await api.untilInState(id, "AwaitStart");
    await api.untilWaiting(id);
    await ctx.settle();
    return id;
  };
  /** A job of the user's, approved (answered APPROVED) and admitted on a pool by the approval's reaction. */
  const admitted = async (overrides: Record<string, unknown> = {}) => {
    const { id } = await api.submit(user.token, overrides);
    const res = await api.act(admin.token, id, "approve");
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ status: "APPROVED" });
    await ctx.settle();
    const job = await api.job(user.token, id);
    expect(job, JSON.stringify(job)).toMatchObject({ status: "RUNNING" });
    return job as { id: string; [k: string]: any };
  };
  const start = async (id: string) => {
    const res = await api.act(admin.token, id, "start");
    await ctx.settle();
    return res;
  };
  return { ctx, admin, user, api, createPool, getPool, approved, admitted, start };
}

describe("starts take capacity", () => {
  it("two 2-GPU jobs on a 2-GPU pool: the second waits (an admin's start is 409 NO_CAPACITY, unchanged) until the first ends", async () => {
    const w = await world();
    const pool = await w.createPool({ totalGpus: 2 });
    const first = await w.admitted({ gpuCount: 2 });
    expect(first).toMatchObject({ status: "RUNNING", clusterId: pool.id, provider: "aws" });
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 0 });
    const second = await w.approved({ gpuCount: 2 });

    await w.ctx.settle();
    const before = await readTable(w.ctx.core.db);
    const refused = await w.start(second);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("NO_CAPACITY");
    expect(await readTable(w.ctx.core.db)).toEqual(before);

    expect((await w.api.act(w.admin.token, first.id, "complete")).status).toBe(200);
    await w.ctx.settle();
    // The reaction to the release admitted the second.
    expect(await w.api.job(w.user.token, second)).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 0 });
  });

  it("places on the cheapest provider's pool with room and charges the job at that pool's price", async () => {
    const w = await world();
    await w.createPool({ provider: "aws", totalGpus: 4 }); // A100 at 4.10
    const onprem = await w.createPool({ provider: "onprem", totalGpus: 1 }); // A100 at 0.90
    const lambda = await w.createPool({ provider: "lambda", totalGpus: 4 }); // A100 at 1.29
    expect(await w.admitted({ gpuCount: 1, provider: undefined })).toMatchObject({ clusterId: onprem.id, provider: "onprem" });
    const next = await w.admitted({ gpuCount: 1 });
    expect(next).toMatchObject({ clusterId: lambda.id, provider: "lambda" });
    // The simulated hour ran in full: charged at lambda's 1.29, whatever the estimate assumed.
    const ended = await w.api.act(w.admin.token, next.id, "fail", { errorMessage: "node lost" });
    expect(ended.body).toMatchObject({ status: "FAILED", clusterId: lambda.id });
    expect(await w.getPool(lambda.id)).toMatchObject({ availableGpus: 4 });
  });

  it("holds CPU and RAM when the job asks for them, and gives everything back on cancel", async () => {
    const w = await world();
    const pool = await w.createPool({ totalGpus: 8, totalCpu: 16, totalRamGb: 64 });
    const a = await w.admitted({ gpuCount: 1, cpu: 12, ramGb: 32 });
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 7, availableCpu: 4, availableRamGb: 32 });
    const b = await w.approved({ gpuCount: 1, cpu: 8 }); // 8 CPU wanted, 4 left: it waits
    expect((await w.start(b)).body.error.code).toBe("NO_CAPACITY");
    expect((await w.api.cancel(w.user.token, a.id)).status).toBe(200);
    await w.ctx.settle();
    // The cancel gave everything back, and the reaction to the release admitted b.
    expect(await w.api.job(w.user.token, b)).toMatchObject({ status: "RUNNING", clusterId: pool.id });
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 7, availableCpu: 8, availableRamGb: 64 });
  });

  it("never over-allocates: 12 concurrent admin starts of 1-GPU jobs on a 3-GPU pool start exactly 3", async () => {
    const w = await world();
    // Approved while the pool is full (held outside any job), then freed without a trigger: nothing
    // admits them, so the admin's starts race for the room.
    const pool = await w.createPool({ totalGpus: 3 });
    await transactWrite(w.ctx.core.db, [takeCapacityItem(w.ctx.core.db, pool.id, { gpus: 3, cpu: 0, ramGb: 0 }, new Date().toISOString())]);
    const jobs = await Promise.all(Array.from({ length: 12 }, () => w.approved({ gpuCount: 1 })));
    // No reactions from here on: the release triggers no admission pass.
    await w.ctx.reactor!.stop();
    await transactWrite(w.ctx.core.db, [
      releaseCapacityItem(w.ctx.core.db, pool.id, { gpus: 3, cpu: 0, ramGb: 0 }, new Date().toISOString()),
    ]);
    const results = await Promise.all(jobs.map((id) => w.api.act(w.admin.token, id, "start")));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === "NO_CAPACITY")).toHaveLength(9);
    expect(await w.getPool(pool.id)).toMatchObject({ availableGpus: 0 });
    const items = await readTable(w.ctx.core.db);
    expect(items.find((i) => i.type === "Cluster")).toMatchObject({ availableGpus: 0, allocatedGpus: 3 });
    expect(items.filter((i) => i.type === "Job" && i.status === "RUNNING")).toHaveLength(3);
  });

  it("a draining pool admits nothing new; a pool pinned at submission is the only one used", async () => {
    const w = await world();
    const drained = await w.createPool({ provider: "onprem" });
    const other = await w.createPool({ provider: "aws" });
    expect(
      (await call(w.ctx.app, "PATCH", `/api/v1/clusters/${drained.id}`, { token: w.admin.token, body: { draining: true } })).status,
    ).toBe(200);
    expect(await w.admitted({ gpuCount: 1 })).toMatchObject({ clusterId: other.id });

    const pinned = await w.approved({ gpuCount: 1, clusterId: drained.id });
    expect((await w.start(pinned)).body.error.code).toBe("NO_CAPACITY");
    // Undraining the pool admits it.
    expect(
      (await call(w.ctx.app, "PATCH", `/api/v1/clusters/${drained.id}`, { token: w.admin.token, body: { draining: false } })).status,
    ).toBe(200);
    await w.ctx.settle();
    expect(await w.api.job(w.user.token, pinned)).toMatchObject({ status: "RUNNING", clusterId: drained.id, provider: "onprem" });
  });

  it("starts a job of a GPU type without pools as before, holding nothing", async () => {
    const w = await world();
    await w.createPool({ gpuType: "A100" });
    const t4 = await w.approved({ gpuType: "T4", gpuCount: 4 });
    const res = await w.start(t4);
    expect(res.status).toBe(200);
    expect(res.body.clusterId).toBeUndefined();
  });
});

describe("submission against the pools", () => {
  it("refuses a request no pool could ever hold with 400 NEVER_FITS naming the largest, writing nothing", async () => {
    const w = await world();
    const small = await w.createPool({ name: "small", totalGpus: 2 });
    const big = await w.createPool({ name: "big", totalGpus: 4, totalCpu: 8 });
    await w.ctx.settle();
    const before = await readTable(w.ctx.core.db);
    for (const body of [{ gpuCount: 5 }, { gpuCount: 2, cpu: 65 }]) {
      const res = await call(w.ctx.app, "POST", "/api/v1/jobs", {
        token: w.user.token,
        body: { name: "x", image: "i", command: "c", gpuType: "A100", estimatedHours: 1, ...body },
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("NEVER_FITS");
    }
    const res = await call(w.ctx.app, "POST", "/api/v1/jobs", {
      token: w.user.token,
      body: { name: "x", image: "i", command: "c", gpuType: "A100", gpuCount: 5, estimatedHours: 1 },
    });
    expect(res.body.error.message).toContain(big.id);
    expect(res.body.error.message).not.toContain(small.id);
    expect(await readTable(w.ctx.core.db)).toEqual(before);
    // It fits the big pool (even though that is busy later): accepted.
    expect(
      (
        await call(w.ctx.app, "POST", "/api/v1/jobs", {
          token: w.user.token,
          body: { name: "x", image: "i", command: "c", gpuType: "A100", gpuCount: 4, estimatedHours: 1 },
        })
      ).status,
    ).toBe(201);
  });

  it("a pinned pool must be one the job may use; its price makes the estimate", async () => {
    const w = await world();
    const onprem = await w.createPool({ provider: "onprem", totalGpus: 4 });
    const h100 = await w.createPool({ gpuType: "H100", provider: "aws", totalGpus: 4 });
    const base = { name: "x", image: "i", command: "c", gpuType: "A100", gpuCount: 1, estimatedHours: 2 };
    await w.ctx.settle();
    const before = await readTable(w.ctx.core.db);
    for (const clusterId of [h100.id, "01JZZZZZZZZZZZZZZZZZZZZZZZ"]) {
      const res = await call(w.ctx.app, "POST", "/api/v1/jobs", { token: w.user.token, body: { ...base, clusterId } });
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toEqual([{ path: "clusterId", message: expect.any(String) }]);
    }
    expect(
      (await call(w.ctx.app, "POST", "/api/v1/jobs", { token: w.user.token, body: { ...base, clusterId: onprem.id, provider: "aws" } }))
        .status,
    ).toBe(400);
    expect(await readTable(w.ctx.core.db)).toEqual(before);
    const pinned = await call(w.ctx.app, "POST", "/api/v1/jobs", { token: w.user.token, body: { ...base, clusterId: onprem.id } });
    expect(pinned.status).toBe(201);
    expect(pinned.body).toMatchObject({ clusterId: onprem.id, estimatedCostUsd: "1.80" }); // 2 h × 0.90
  });

  it("estimates a job at the dearest pool it may run on, so what it is charged never exceeds its estimate", async () => {
    const w = await world();
    await w.createPool({ provider: "onprem", totalGpus: 4 }); // A100 at 0.90
    await w.createPool({ provider: "lambda", totalGpus: 4 }); // 1.29
    await w.createPool({ provider: "aws", totalGpus: 1 }); // 4.10, but too small for 2 GPUs
    const res = await call(w.ctx.app, "POST", "/api/v1/jobs", {
      token: w.user.token,
      body: { name: "x", image: "i", command: "c", gpuType: "A100", gpuCount: 2, estimatedHours: 1 },
    });
    expect(res.body).toMatchObject({ estimatedCostUsd: "2.58" }); // 2 GPUs × 1 h × 1.29
    // Approved with room: admitted at once, to the cheapest pool that fits.
    expect((await w.api.act(w.admin.token, res.body.id, "approve")).body).toMatchObject({ status: "APPROVED" });
    await w.ctx.settle();
    expect(await w.api.job(w.user.token, res.body.id)).toMatchObject({ status: "RUNNING", provider: "onprem" });
    const done = await w.api.act(w.admin.token, res.body.id, "fail", { errorMessage: "stop" });
    expect(Number(done.body.actualCostUsd)).toBeLessThanOrEqual(2.58);
  });
});
