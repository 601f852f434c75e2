/** Clusters (capacity pools) over HTTP: shared pools (admins) and private ones (an org's owner),
 * who sees which, resizing never below what is allocated, draining, and the capacity items
 * admission will use (never below zero, never above total, under any concurrency). */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseCapacityItem, takeCapacityItem } from "../packages/core/src/cluster/store";
import { TransactionCancelled, transactWrite } from "../packages/core/src/db/transact";
import { newId } from "../packages/core/src/util/id";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";

type User = Awaited<ReturnType<typeof signUp>>;
let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: User;
let orgOwner: User;
let member: User;
let outsider: User;
let orgId: string;

beforeAll(async () => {
  ctx = await testApp();
  [admin, orgOwner, member, outsider] = await Promise.all([
    signUpAdmin(ctx.app, ctx.core),
    signUp(ctx.app),
    signUp(ctx.app),
    signUp(ctx.app),
  ]);
  const org = await call(ctx.app, "POST", "/api/v1/orgs", { token: orgOwner.token, body: { name: `Pool Org ${Date.now()}` } });
  orgId = org.body.id;
  await call(ctx.app, "POST", "/api/v1/orgs/join", { token: member.token, body: { inviteCode: org.body.inviteCode } });
});
afterAll(() => ctx.engine.shutdown());

const pool = (overrides: Record<string, unknown> = {}) => ({
  name: "a100-pool",
  provider: "aws",
  region: "us-east-1",
  gpuType: "A100",
  totalGpus: 8,
  totalCpu: 64,
  totalRamGb: 512,
  ...overrides,
});

async function createShared(overrides: Record<string, unknown> = {}) {
  const res = await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: pool(overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string } & Record<string, unknown>;
}
async function createPrivate(token = orgOwner.token, overrides: Record<string, unknown> = {}) {
  const res = await call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, { token, body: pool(overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string } & Record<string, unknown>;
}
const patch = (token: string, id: string, body: unknown) => call(ctx.app, "PATCH", `/api/v1/clusters/${id}`, { token, body });
const get = (token: string, id: string) => call(ctx.app, "GET", `/api/v1/clusters/${id}`, { token });
const listIds = async (token: string) =>
  ((await call(ctx.app, "GET", "/api/v1/clusters", { token })).body.items as { id: string }[]).map((c) => c.id);
const take = (id: string, gpus: number, cpu = 0, ramGb = 0) =>
  transactWrite(ctx.core.db, [takeCapacityItem(ctx.core.db, id, { gpus, cpu, ramGb }, new Date().toISOString())]);
/** A release as a job's end makes it: one whose time lost to a later change (concurrent releases
 * reach the pool out of order) is made again with a fresh time, while the pool still holds enough. */
const release = async (id: string, gpus: number, cpu = 0, ramGb = 0) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transactWrite(ctx.core.db, [releaseCapacityItem(ctx.core.db, id, { gpus, cpu, ramGb }, new Date().toISOString())]);
    } catch (error) {
      const pool = error instanceof TransactionCancelled ? error.failedAt(0)?.item : undefined;
      if (
        attempt < 20 &&
        pool &&
        Number(pool.allocatedGpus) >= gpus &&
        Number(pool.allocatedCpu) >= cpu &&
        Number(pool.allocatedRamGb) >= ramGb
      )
        continue;
      throw error;
    }
  }
};
const stored = async (id: string) => (await readTable(ctx.core.db)).find((i) => i.pk === `CLUSTER#${id}`)!;

describe("creating pools", () => {
  it("an admin creates a shared pool: everything available, not draining, creator recorded", async () => {
    const created = await createShared({ name: "shared-a100" });
    expect(created).toEqual({
      id: expect.any(String),
      name: "shared-a100",
      provider: "aws",
      region: "us-east-1",
      gpuType: "A100",
      totalGpus: 8,
      availableGpus: 8,
      totalCpu: 64,
      availableCpu: 64,
      totalRamGb: 512,
      availableRamGb: 512,
      draining: false,
      createdBy: admin.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await stored(created.id)).toMatchObject({
      type: "Cluster",
      sk: "CLUSTER",
      allocatedGpus: 0,
      allocatedCpu: 0,
      allocatedRamGb: 0,
    });
  });

  it("an admin creates a private pool for an existing org; a missing org is 404 and a malformed id 400, nothing written", async () => {
    const created = await createShared({ orgId });
    expect(created).toMatchObject({ orgId, createdBy: admin.id });

    await ctx.settle();
    const before = await readTable(ctx.core.db);
    const missing = await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: pool({ orgId: newId() }) });
    expect(missing.status).toBe(404);
    const malformed = await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: pool({ orgId: "not-an-id" }) });
    expect(malformed.status).toBe(400);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("an org's owner (and an admin) create its private pools; its members 403, others 404, non-admins not shared ones", async () => {
    expect(await createPrivate(orgOwner.token)).toMatchObject({ orgId, createdBy: orgOwner.id });
    expect(await createPrivate(admin.token)).toMatchObject({ orgId, createdBy: admin.id });

    await ctx.settle();
    const before = await readTable(ctx.core.db);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, { token: member.token, body: pool() })).status).toBe(403);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, { token: outsider.token, body: pool() })).status).toBe(404);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${newId()}/clusters`, { token: admin.token, body: pool() })).status).toBe(404);
    // The org comes from the path: the body cannot name one.
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, { token: orgOwner.token, body: pool({ orgId }) })).status).toBe(
      400,
    );
    expect((await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: orgOwner.token, body: pool() })).status).toBe(403);
    expect((await call(ctx.app, "POST", "/api/v1/admin/clusters", { body: pool() })).status).toBe(401);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("validates the body (400, nothing written), including that the catalog offers the GPU type at the provider", async () => {
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    const bad = [
      {},
      pool({ name: "" }),
      pool({ name: "x".repeat(65) }),
      pool({ name: "tab\tname" }),
      pool({ provider: "ibm" }),
      pool({ gpuType: "B200" }),
      pool({ region: "" }),
      pool({ region: "us east 1" }),
      pool({ region: "r".repeat(33) }),
      pool({ totalGpus: 0 }),
      pool({ totalGpus: -1 }),
      pool({ totalGpus: 1.5 }),
      pool({ totalGpus: "8" }),
      pool({ totalGpus: 100_001 }),
      pool({ totalCpu: 0 }),
      pool({ totalRamGb: 100_000_001 }),
      pool({ extra: true }),
      pool({ provider: "lambda", gpuType: "T4" }),
      pool({ provider: "coreweave", gpuType: "L4" }),
    ];
    for (const body of bad) {
      const res = await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const org = await call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, {
      token: orgOwner.token,
      body: pool({ provider: "lambda", gpuType: "T4" }),
    });
    expect(org.status).toBe(400);
    expect(org.body.error.message).toMatch(/T4 at lambda/);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });
});

describe("seeing pools", () => {
  it("shared pools to everyone, private ones to their org's members and admins only", async () => {
    const shared = await createShared();
    const mine = await createPrivate();
    const otherOrg = await call(ctx.app, "POST", "/api/v1/orgs", { token: outsider.token, body: { name: `Other Org ${Date.now()}` } });
    const theirs = (
      await call(ctx.app, "POST", `/api/v1/orgs/${otherOrg.body.id}/clusters`, { token: outsider.token, body: pool({ gpuType: "H100" }) })
    ).body;

    const lists = {
      outsider: await listIds(outsider.token),
      member: await listIds(member.token),
      orgOwner: await listIds(orgOwner.token),
      admin: await listIds(admin.token),
    };
    expect(lists.outsider).toContain(shared.id);
    expect(lists.outsider).toContain(theirs.id);
    expect(lists.outsider).not.toContain(mine.id);
    for (const ids of [lists.member, lists.orgOwner]) {
      expect(ids).toContain(shared.id);
      expect(ids).toContain(mine.id);
      expect(ids).not.toContain(theirs.id);
    }
    expect(lists.admin).toEqual(expect.arrayContaining([shared.id, mine.id, theirs.id]));
    // Creation order.
    for (const ids of Object.values(lists)) expect(ids).toEqual([...ids].sort());

    expect((await get(outsider.token, shared.id)).status).toBe(200);
    expect((await get(outsider.token, mine.id)).status).toBe(404);
    expect((await get(member.token, mine.id)).body).toMatchObject({ id: mine.id, orgId, totalGpus: 8, availableGpus: 8 });
    expect((await get(admin.token, theirs.id)).status).toBe(200);
    expect((await get(member.token, theirs.id)).status).toBe(404);
    for (const id of [newId(), "nope", "%2e%2e"]) expect((await get(admin.token, id)).status).toBe(404);
    expect((await get("", shared.id)).status).toBe(401);
  });

  it("lists totals and what is available now", async () => {
    const shared = await createShared();
    await take(shared.id, 3, 10, 100);
    const listed = (await call(ctx.app, "GET", "/api/v1/clusters", { token: member.token })).body.items.find(
      (c: { id: string }) => c.id === shared.id,
    );
    expect(listed).toMatchObject({ totalGpus: 8, availableGpus: 5, totalCpu: 64, availableCpu: 54, totalRamGb: 512, availableRamGb: 412 });
  });
});

describe("resizing and draining", () => {
  it("resizes, never below what is allocated (409 CAPACITY_IN_USE, nothing written)", async () => {
    const { id } = await createShared();
    await take(id, 6, 40, 300);

    await ctx.settle();
    const before = await readTable(ctx.core.db);
    for (const body of [{ totalGpus: 5 }, { totalCpu: 39 }, { totalRamGb: 299 }, { totalGpus: 10, totalCpu: 1 }]) {
      const res = await patch(admin.token, id, body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.error.code).toBe("CAPACITY_IN_USE");
    }
    expect((await patch(admin.token, id, { totalGpus: 5 })).body.error.message).toMatch(/totalGpus.*6 GPUs are allocated/);
    expect(await readTable(ctx.core.db)).toEqual(before);

    const shrunk = await patch(admin.token, id, { totalGpus: 6, totalCpu: 40, totalRamGb: 300 });
    expect(shrunk.status).toBe(200);
    expect(shrunk.body).toMatchObject({
      totalGpus: 6,
      availableGpus: 0,
      totalCpu: 40,
      availableCpu: 0,
      totalRamGb: 300,
      availableRamGb: 0,
    });
    const grown = await patch(admin.token, id, { totalGpus: 10 });
    expect(grown.body).toMatchObject({ totalGpus: 10, availableGpus: 4, totalCpu: 40, availableCpu: 0 });

    await release(id, 6, 40, 300);
    expect(await stored(id)).toMatchObject({
      totalGpus: 10,
      availableGpus: 10,
      allocatedGpus: 0,
      availableCpu: 40,
      allocatedCpu: 0,
      availableRamGb: 300,
      allocatedRamGb: 0,
    });
  });

  it("never gives back more than is allocated (available never above total)", async () => {
    const { id } = await createShared();
    await take(id, 2);
    await expect(release(id, 3)).rejects.toBeInstanceOf(TransactionCancelled);
    await release(id, 2);
    await expect(release(id, 1)).rejects.toBeInstanceOf(TransactionCancelled);
    expect(await stored(id)).toMatchObject({ totalGpus: 8, availableGpus: 8, allocatedGpus: 0 });
  });

  it("drains (nothing more can be taken, running allocations can still be given back) and undrains", async () => {
    const { id } = await createShared();
    await take(id, 1);
    const drained = await patch(admin.token, id, { draining: true });
    expect(drained.status).toBe(200);
    expect(drained.body).toMatchObject({ draining: true });
    await expect(take(id, 1)).rejects.toBeInstanceOf(TransactionCancelled);
    await release(id, 1);
    expect((await patch(admin.token, id, { draining: false })).body.draining).toBe(false);
    await take(id, 8);
    expect(await stored(id)).toMatchObject({ availableGpus: 0, allocatedGpus: 8, draining: false });
  });

  it("only admins and the owner of the pool's org change it (members 403, others 404, shared pools admins only)", async () => {
    const shared = await createShared();
    const mine = await createPrivate();
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    expect((await patch(member.token, mine.id, { draining: true })).status).toBe(403);
    expect((await patch(outsider.token, mine.id, { draining: true })).status).toBe(404);
    expect((await patch(orgOwner.token, shared.id, { draining: true })).status).toBe(403);
    expect((await patch(outsider.token, shared.id, { draining: true })).status).toBe(403);
    expect((await patch(admin.token, newId(), { draining: true })).status).toBe(404);
    expect(await readTable(ctx.core.db)).toEqual(before);

    expect((await patch(orgOwner.token, mine.id, { totalGpus: 16 })).body).toMatchObject({ totalGpus: 16, availableGpus: 16 });
    expect((await patch(admin.token, mine.id, { draining: true })).body).toMatchObject({ draining: true });
  });

  it("needs at least one known field (400, nothing written)", async () => {
    const { id } = await createShared();
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    for (const body of [{}, { name: "renamed" }, { totalGpus: 0 }, { draining: "yes" }, { totalGpus: 4, orgId }, [], null]) {
      const res = await patch(admin.token, id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await call(ctx.app, "PATCH", `/api/v1/clusters/${id}`, { token: admin.token })).status).toBe(400);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });
});

describe("capacity under concurrency", () => {
  it("100 concurrent takes of 1 GPU on a 10-GPU pool: exactly 10 succeed, never below zero", async () => {
    const { id } = await createShared({ totalGpus: 10, totalCpu: 1000, totalRamGb: 1000 });
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => take(id, 1, 1, 1)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(TransactionCancelled);
    expect(await stored(id)).toMatchObject({ totalGpus: 10, availableGpus: 0, allocatedGpus: 10, availableCpu: 990, allocatedCpu: 10 });
  });

  it("concurrent releases never push available above total", async () => {
    const { id } = await createShared({ totalGpus: 10 });
    await take(id, 5);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => release(id, 1)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(await stored(id)).toMatchObject({ totalGpus: 10, availableGpus: 10, allocatedGpus: 0 });
  });

  it("resizes racing with takes keep available = total − allocated and total ≥ allocated", async () => {
    const { id } = await createShared({ totalGpus: 20 });
    const sizes = [4, 12, 6, 20, 8, 15];
    await Promise.allSettled([
      ...Array.from({ length: 30 }, () => take(id, 1)),
      ...sizes.map((totalGpus) => patch(admin.token, id, { totalGpus })),
    ]);
    const item = (await stored(id)) as Record<string, number>;
    expect(item.availableGpus).toBe(item.totalGpus! - item.allocatedGpus!);
    expect(item.availableGpus).toBeGreaterThanOrEqual(0);
    expect(item.allocatedGpus).toBeLessThanOrEqual(item.totalGpus!);
  });
});
