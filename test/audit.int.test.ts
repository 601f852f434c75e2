/** The audit trail over HTTP against DynamoDB Local: every admin or org-owner change leaves one
 * entry written with it (actor and role, action, target, before/after, request ids), a refused
 * change leaves none, GET /admin/audit pages them newest first for admins only. */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";

let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: Awaited<ReturnType<typeof signUpAdmin>>;
beforeAll(async () => {
  ctx = await testApp();
  admin = await signUpAdmin(ctx.app, ctx.core);
});
afterAll(() => ctx.engine.shutdown());

const trail = async (query = "limit=100") => (await call(ctx.app, "GET", `/api/v1/admin/audit?${query}`, { token: admin.token })).body;
const entries = async () => (await readTable(ctx.core.db)).filter((item) => item.type === "AuditEntry");
const pool = { name: "audited", provider: "aws", region: "us-east-1", gpuType: "H100", totalGpus: 8, totalCpu: 64, totalRamGb: 512 };

describe("the audit trail", () => {
  it("records an admin's account and quota changes with before, after and the request's ids", async () => {
    const user = await signUp(ctx.app);
    const promoted = await call(ctx.app, "PATCH", `/api/v1/admin/users/${user.id}`, {
      token: admin.token,
      body: { role: "admin" },
      headers: { "x-request-id": "ticket-4711" },
    });
    expect(promoted.status).toBe(200);
    expect(
      (await call(ctx.app, "PUT", `/api/v1/admin/users/${user.id}/quota`, { token: admin.token, body: { limitHours: 42 } })).status,
    ).toBe(200);
    const [quota, access] = (await trail()).items;
    expect(access).toMatchObject({
      action: "user.access",
      actor: { id: admin.id, role: "admin" },
      target: { kind: "user", id: user.id },
      before: { role: "user", active: true },
      after: { role: "admin", active: true },
      clientRequestId: "ticket-4711",
      requestId: expect.any(String),
    });
    expect(access.requestId).not.toBe("ticket-4711");
    expect(quota).toMatchObject({
      action: "user.quota",
      target: { kind: "user", id: user.id },
      after: { limitHours: 42 },
      clientRequestId: null,
    });
  });

  it("records an org owner's budget, invite rotation, member removal and pool changes, with the owner as actor", async () => {
    const [owner, member] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = (await call(ctx.app, "POST", "/api/v1/orgs", { token: owner.token, body: { name: `Audited ${Date.now()}` } })).body;
    await call(ctx.app, "POST", "/api/v1/orgs/join", { token: member.token, body: { inviteCode: org.inviteCode } });
    expect((await call(ctx.app, "PUT", `/api/v1/orgs/${org.id}/budget`, { token: owner.token, body: { monthlyUsd: "1500" } })).status).toBe(
      200,
    );
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/invite-code`, { token: owner.token })).status).toBe(200);
    expect((await call(ctx.app, "DELETE", `/api/v1/orgs/${org.id}/members/${member.id}`, { token: owner.token })).status).toBe(204);
    const created = await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/clusters`, { token: owner.token, body: pool });
    expect(created.status).toBe(201);
    expect(
      (await call(ctx.app, "PATCH", `/api/v1/clusters/${created.body.id}`, { token: owner.token, body: { totalGpus: 16, draining: true } }))
        .status,
    ).toBe(200);

    const mine = (await trail()).items.filter((e: { actor: { id: string } }) => e.actor.id === owner.id);
    expect(mine.map((e: { action: string }) => e.action)).toEqual([
      "cluster.update",
      "cluster.create",
      "org.member.remove",
      "org.inviteCode.rotate",
      "org.budget",
    ]);
    const [update, create, remove, rotate, budget] = mine;
    expect(update).toMatchObject({
      actor: { role: "user" },
      target: { kind: "cluster", id: created.body.id },
      before: { totalGpus: 8, draining: false },
      after: { totalGpus: 16, draining: true },
    });
    expect(create).toMatchObject({ after: { name: "audited", totalGpus: 8, orgId: org.id } });
    expect(remove).toMatchObject({ target: { kind: "org", id: org.id }, before: { userId: member.id, role: "member" } });
    // The invite codes are secrets: the trail says it rotated, not what to.
    expect(JSON.stringify(rotate)).not.toContain(org.inviteCode);
    expect(budget).toMatchObject({ before: { monthlyUsd: null }, after: { monthlyUsd: "1500.00" } });
  });

  it("concurrent budget changes chain: each entry's before is the budget it replaced", async () => {
    const owner = await signUp(ctx.app);
    const org = (await call(ctx.app, "POST", "/api/v1/orgs", { token: owner.token, body: { name: `Raced ${Date.now()}` } })).body;
    const amounts = ["100", "200", "300", "400"];
    const results = await Promise.all(
      amounts.map((monthlyUsd) => call(ctx.app, "PUT", `/api/v1/orgs/${org.id}/budget`, { token: owner.token, body: { monthlyUsd } })),
    );
    expect(results.every((r) => r.status === 200 || r.status === 409 || r.status === 503)).toBe(true);
    const budgets = (await trail()).items
      .filter((e: { action: string; target: { id: string } }) => e.action === "org.budget" && e.target.id === org.id)
      .reverse();
    expect(budgets).toHaveLength(results.filter((r) => r.status === 200).length);
    let current: string | null = null;
    for (const entry of budgets) {
      expect(entry.before.monthlyUsd).toBe(current);
      current = entry.after.monthlyUsd;
    }
    const stored = (await call(ctx.app, "GET", "/api/v1/orgs", { token: owner.token })).body.items[0];
    expect(`${stored.monthlyBudgetUsd ?? stored.monthToDate?.budgetUsd}`).toBe(current);
  });

  it("a refused change leaves no entry", async () => {
    const user = await signUp(ctx.app);
    const before = await entries();
    expect((await call(ctx.app, "PATCH", `/api/v1/admin/users/${user.id}`, { token: admin.token, body: { role: "root" } })).status).toBe(
      400,
    );
    expect((await call(ctx.app, "PATCH", `/api/v1/admin/users/${user.id}`, { token: user.token, body: { role: "admin" } })).status).toBe(
      403,
    );
    expect(
      (await call(ctx.app, "PUT", `/api/v1/admin/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/quota`, { token: admin.token, body: { limitHours: 1 } }))
        .status,
    ).toBe(404);
    expect(await entries()).toEqual(before);

    // The only admin of a table of its own cannot disable itself: 409, and its trail stays empty.
    const other = await testApp();
    try {
      const only = await signUpAdmin(other.app, other.core);
      expect(
        (await call(other.app, "PATCH", `/api/v1/admin/users/${only.id}`, { token: only.token, body: { active: false } })).status,
      ).toBe(409);
      expect((await readTable(other.core.db)).filter((item) => item.type === "AuditEntry")).toEqual([]);
    } finally {
      await other.engine.shutdown();
    }
  });

  it("pages newest first with a cursor, no entry twice; admins only", async () => {
    const all = (await trail()).items.map((e: { id: string }) => e.id);
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect([...all].sort().reverse()).toEqual(all);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await trail(`limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e: { id: string }) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    const user = await signUp(ctx.app);
    expect((await call(ctx.app, "GET", "/api/v1/admin/audit", { token: user.token })).status).toBe(403);
    expect((await call(ctx.app, "GET", "/api/v1/admin/audit?cursor=garbage", { token: admin.token })).status).toBe(400);
  });
});
