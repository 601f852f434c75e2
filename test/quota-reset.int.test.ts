/** The monthly quota reset and the admin's user/quota endpoints, over HTTP against DynamoDB Local,
 * with the clock moved across a month boundary instead of waiting for one. */

import type { Core } from "@gpuaas/core";
import { submitJob } from "@gpuaas/core/api";
import { resetQuotas } from "@gpuaas/core/schedules";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createUserItem } from "../packages/core/src/user/store";
import { newId } from "../packages/core/src/util/id";
import { noWorkflow } from "../packages/core/src/workflow/port";
import { auditTable, readTable } from "./support/audit";
import { testApp, testCore } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

/** A clock the test moves. */
const clock = { at: new Date("2026-10-31T23:00:00Z") };
const now = () => new Date(clock.at);

let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: Awaited<ReturnType<typeof signUpAdmin>>;
beforeAll(async () => {
  // Runs take an hour per GPU-hour, so a started job stays RUNNING until an admin ends it.
  ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", JWT_TTL_SECONDS: "86400" }, { now });
  admin = await signUpAdmin(ctx.app, ctx.core);
});
afterAll(() => ctx.engine.shutdown());

/** A token for `account` valid at the test clock's time (tokens live a day at most). */
async function relogin<T extends { email: string; password: string; token: string }>(account: T): Promise<T> {
  const res = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: account.email, password: account.password } });
  return { ...account, token: res.body.accessToken as string };
}

const quotaItems = async (userId: string) =>
  (await readTable(ctx.core.db))
    .filter((i) => i.type === "Quota" && i.userId === userId)
    .map((q) => ({
      period: q.period,
      limitMilli: q.limitMilli,
      reservedMilli: q.reservedMilli,
      usedMilli: q.usedMilli,
      remainingMilli: q.remainingMilli,
    }));

describe("monthly quota reset", () => {
  it("opens the new month at the standing limit, carries open jobs' reservations and keeps the old month", async () => {
    clock.at = new Date("2026-10-31T23:00:00Z");
    const api = lifecycleApi(ctx.app, ctx.engine);
    const user = await signUp(ctx.app);
    const pending = await api.submit(user.token, { estimatedHours: 2 });
    const running = await api.submit(user.token, { estimatedHours: 3 });
    const done = await api.submit(user.token, { estimatedHours: 1 });
    for (const action of ["approve", "start"] as const) {
      expect((await api.act(admin.token, running.id, action)).status).toBe(200);
      expect((await api.act(admin.token, done.id, action)).status).toBe(200);
    }
    clock.at = new Date("2026-10-31T23:30:00Z");
    expect((await api.act(admin.token, done.id, "complete")).status).toBe(200); // used 0.5 GPU-hours in October

    clock.at = new Date("2026-11-01T00:00:05Z");
    const reset = await call(ctx.app, "POST", "/api/v1/admin/quotas/reset", { token: admin.token });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body).toMatchObject({ period: "2026-11", done: true, phase: "done" });
    expect(reset.body.jobsCarried).toBeGreaterThanOrEqual(2);

    expect(await quotaItems(user.id)).toEqual([
      { period: "2026-10", limitMilli: 10_000, reservedMilli: 0, usedMilli: 500, remainingMilli: 9_500 },
      { period: "2026-11", limitMilli: 10_000, reservedMilli: 5_000, usedMilli: 0, remainingMilli: 5_000 },
    ]);
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).body.quota).toMatchObject({
      period: "2026-11",
      reservedHours: 5,
      remainingHours: 5,
    });

    // Running it again changes nothing but the audit trail (who ran it); the carried job settles in the month that holds it.
    const notAudit = async () => (await readTable(ctx.core.db)).filter((item) => item.type !== "AuditEntry");
    const before = await notAudit();
    const again = await call(ctx.app, "POST", "/api/v1/admin/quotas/reset", { token: admin.token });
    expect(again.body).toMatchObject({ done: true, jobsCarried: reset.body.jobsCarried, usersOpened: reset.body.usersOpened });
    expect(await notAudit()).toEqual(before);
    const trail = await call(ctx.app, "GET", "/api/v1/admin/audit", { token: admin.token });
    expect(trail.body.items[0]).toMatchObject({
      action: "quota.reset.run",
      actor: { id: admin.id, role: "admin" },
      target: { kind: "quotaReset" },
    });

    clock.at = new Date("2026-11-01T01:00:00Z");
    expect((await api.act(admin.token, running.id, "complete")).status).toBe(200); // ran 2 h of its 3
    expect((await api.cancel(user.token, pending.id)).status).toBe(200);
    expect(await quotaItems(user.id)).toEqual([
      { period: "2026-10", limitMilli: 10_000, reservedMilli: 0, usedMilli: 500, remainingMilli: 9_500 },
      { period: "2026-11", limitMilli: 10_000, reservedMilli: 0, usedMilli: 2_000, remainingMilli: 8_000 },
    ]);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it("opens a month for every user, page after page, at each one's standing limit", async () => {
    const core = await testCore({}, { now: () => new Date("2026-12-01T00:00:00Z"), workflow: noWorkflow("none") });
    const ids = await seedUsers(core, 230, (i) => (i % 2 ? 25_000 : undefined));
    const result = await resetQuotas(core);
    expect(result).toMatchObject({ period: "2026-12", done: true, usersOpened: 230, jobsCarried: 0 });
    const quotas = (await readTable(core.db)).filter((i) => i.type === "Quota");
    expect(quotas).toHaveLength(230);
    for (const [i, id] of ids.entries()) {
      expect(quotas.find((q) => q.userId === id)).toMatchObject({
        period: "2026-12",
        limitMilli: i % 2 ? 25_000 : 10_000,
        remainingMilli: i % 2 ? 25_000 : 10_000,
      });
    }
  }, 120_000);

  it.each([40, 160, 330])(
    "completes without double-carrying when interrupted after %i storage calls",
    async (callsBeforeCrash) => {
      const clockAt = { at: new Date("2026-10-15T12:00:00Z") };
      const core = await testCore({}, { now: () => new Date(clockAt.at), workflow: noWorkflow("none") });
      const ids = await seedUsers(core, 120);
      // Every user has an open job reserving in October.
      await inBatches(ids, (userId) =>
        submitJob(
          core,
          { userId, role: "user" },
          { name: "j", image: "img", command: "run", gpuType: "T4", gpuCount: 1, estimatedHours: 1.5 },
        ),
      );
      clockAt.at = new Date("2026-11-01T00:00:00Z");

      const crashing: Core = { ...core, db: { ...core.db, doc: crashAfter(core.db.doc, callsBeforeCrash) } };
      await expect(resetQuotas(crashing)).rejects.toThrow(/simulated crash/);
      const resumed = await resetQuotas(core);
      expect(resumed).toMatchObject({ period: "2026-11", done: true });

      const items = await readTable(core.db);
      const november = items.filter((i) => i.type === "Quota" && i.period === "2026-11");
      expect(november).toHaveLength(120);
      for (const q of november) expect(q).toMatchObject({ reservedMilli: 1_500, remainingMilli: 8_500 });
      for (const q of items.filter((i) => i.type === "Quota" && i.period === "2026-10"))
        expect(q).toMatchObject({ reservedMilli: 0, remainingMilli: 10_000 });
      expect(items.filter((i) => i.type === "Job").every((j) => j.quotaPeriod === "2026-11")).toBe(true);
      expect(await auditTable(core.db)).toEqual([]);
    },
    120_000,
  ); // 240 writes of setup and two runs: seconds alone, far more beside 60 other files on a 2-core CI machine
});

describe("admin users and quotas", () => {
  beforeEach(async () => {
    clock.at = new Date("2026-11-10T00:00:00Z");
    admin = await relogin(admin);
  });

  it("lists users with this month's quota, page by page", async () => {
    clock.at = new Date("2026-11-10T00:00:00Z");
    const user = await signUp(ctx.app);
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(ctx.app, "GET", `/api/v1/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen.map((u) => u.id)).size).toBe(seen.length);
    const mine = seen.find((u) => u.id === user.id);
    expect(mine).toMatchObject({
      email: user.email,
      role: "user",
      monthlyLimitHours: 10,
      quota: { period: "2026-11", limitHours: 10, reservedHours: 0 },
    });
    expect(mine).not.toHaveProperty("passwordHash");
  });

  it("sets a user's standing limit: this month moves with it and later months open with it", async () => {
    clock.at = new Date("2026-11-10T00:00:00Z");
    const api = lifecycleApi(ctx.app, ctx.engine);
    const user = await signUp(ctx.app);
    await api.submit(user.token, { estimatedHours: 4 });
    const res = await call(ctx.app, "PUT", `/api/v1/admin/users/${user.id}/quota`, { token: admin.token, body: { limitHours: 2.5 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // Below what is reserved: nothing new fits, the held job keeps its GPU-hours.
    expect(res.body).toMatchObject({
      id: user.id,
      monthlyLimitHours: 2.5,
      quota: { limitHours: 2.5, reservedHours: 4, remainingHours: -1.5 },
    });
    expect(
      (
        await call(ctx.app, "POST", "/api/v1/jobs", {
          token: user.token,
          body: { name: "x", image: "i", command: "c", gpuType: "T4", gpuCount: 1, estimatedHours: 0.5 },
        })
      ).body.error.code,
    ).toBe("QUOTA_EXCEEDED");

    const fresh = await signUp(ctx.app);
    expect(
      (await call(ctx.app, "PUT", `/api/v1/admin/users/${fresh.id}/quota`, { token: admin.token, body: { limitHours: 40 } })).body.quota,
    ).toMatchObject({
      period: "2026-11",
      limitHours: 40,
      remainingHours: 40,
    });
    clock.at = new Date("2026-12-01T00:00:00Z");
    admin = await relogin(admin);
    expect((await call(ctx.app, "POST", "/api/v1/admin/quotas/reset", { token: admin.token })).body.done).toBe(true);
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: (await relogin(fresh)).token })).body.quota).toMatchObject({
      period: "2026-12",
      limitHours: 40,
    });
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });

  it.each([
    [{}, 400],
    [{ limitHours: -1 }, 400],
    [{ limitHours: "10" }, 400],
    [{ limitHours: 1_000_001 }, 400],
    [{ limitHours: 1.0005 }, 400],
    [{ limitHours: 5, extra: true }, 400],
  ])("refuses %j with %i and changes nothing", async (body, status) => {
    const user = await signUp(ctx.app);
    const before = await readTable(ctx.core.db);
    const res = await call(ctx.app, "PUT", `/api/v1/admin/users/${user.id}/quota`, { token: admin.token, body });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("takes a limit too small for a milli-hour as 0, and audits it as stored (found by the fuzz test: 1e-300 once made a 500)", async () => {
    const user = await signUp(ctx.app);
    const res = await call(ctx.app, "PUT", `/api/v1/admin/users/${user.id}/quota`, { token: admin.token, body: { limitHours: 1e-300 } });
    expect(res.status).toBe(200);
    const trail = await call(ctx.app, "GET", "/api/v1/admin/audit?limit=1", { token: admin.token });
    expect(trail.body.items[0]).toMatchObject({ action: "user.quota", target: { id: user.id }, after: { limitHours: 0 } });
  });

  it("answers 404 for a user that does not exist, writing nothing", async () => {
    const before = await readTable(ctx.core.db);
    for (const id of [newId(), "not-an-id"]) {
      const res = await call(ctx.app, "PUT", `/api/v1/admin/users/${id}/quota`, { token: admin.token, body: { limitHours: 5 } });
      expect(res.status).toBe(404);
    }
    expect(await readTable(ctx.core.db)).toEqual(before);
  });
});

/** `count` users written straight to the table (no password hashing), optionally with a standing limit. */
async function seedUsers(core: Core, count: number, limitOf: (i: number) => number | undefined = () => undefined) {
  const ids = Array.from({ length: count }, () => newId());
  await inBatches(ids, async (id, i) => {
    const at = core.now().toISOString();
    const limit = limitOf(i);
    await createUserItem(core.db, {
      id,
      email: `seed-${id.toLowerCase()}@example.com`,
      fullName: "Seed",
      role: "user",
      active: true,
      passwordHash: "x",
      ...(limit === undefined ? {} : { monthlyLimitMilli: limit }),
      createdAt: at,
      updatedAt: at,
    });
  });
  return ids;
}

/** Runs `each` over `items` eight at a time, in order of batches. */
async function inBatches<T>(items: T[], each: (item: T, index: number) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += 8)
    await Promise.all(items.slice(start, start + 8).map((item, i) => each(item, start + i)));
}

/** A document client that fails every call after the first `calls`, as a process dying mid-run would stop. */
function crashAfter(doc: Core["db"]["doc"], calls: number): Core["db"]["doc"] {
  let made = 0;
  return new Proxy(doc, {
    get(target, prop, receiver) {
      if (prop !== "send") return Reflect.get(target, prop, receiver);
      return (command: Parameters<typeof target.send>[0]) => {
        if (++made > calls) return Promise.reject(new Error("simulated crash"));
        return target.send(command as never);
      };
    },
  });
}
