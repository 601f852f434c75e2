/** Account administration and registration modes over HTTP against DynamoDB Local:
 * PATCH /admin/users/{id} {role, active} takes effect at once on tokens already issued (a disabling
 * ends them for good), never
 * leaves the platform without an active admin (even with two admins demoting each other at once);
 * REGISTRATION_MODE open / approval / closed and ALLOWED_EMAIL_DOMAINS. */

import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ensureAdmin } from "@gpuaas/core/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, uniqueEmail } from "./support/http";

type App = Awaited<ReturnType<typeof testApp>>;
const apps: App[] = [];
const app = async (env: Record<string, string> = {}) => {
  const made = await testApp(env);
  apps.push(made);
  return made;
};
afterAll(() => Promise.all(apps.map((a) => a.engine.shutdown())));

const patch = (ctx: App, token: string, userId: string, body: unknown) =>
  call(ctx.app, "PATCH", `/api/v1/admin/users/${userId}`, { token, body });
const adminListStatus = async (ctx: App, token: string) => (await call(ctx.app, "GET", "/api/v1/admin/jobs", { token })).status;

describe("PATCH /admin/users/{id}", () => {
  let ctx: App;
  let admin: Awaited<ReturnType<typeof signUpAdmin>>;
  beforeAll(async () => {
    ctx = await app();
    admin = await signUpAdmin(ctx.app, ctx.core);
  });

  it("promotes and demotes at once: the same token gains and loses the admin routes", async () => {
    const user = await signUp(ctx.app);
    expect(await adminListStatus(ctx, user.token)).toBe(403);
    const promoted = await patch(ctx, admin.token, user.id, { role: "admin" });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ id: user.id, role: "admin", active: true });
    expect(await adminListStatus(ctx, user.token)).toBe(200);
    expect((await patch(ctx, admin.token, user.id, { role: "user" })).body.role).toBe("user");
    expect(await adminListStatus(ctx, user.token)).toBe(403);
  });

  it("disables and enables: a disabled account is refused on every route at once", async () => {
    const user = await signUp(ctx.app);
    expect((await patch(ctx, admin.token, user.id, { active: false })).body.active).toBe(false);
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).status).toBe(403);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })).status).toBe(403);
    expect((await patch(ctx, admin.token, user.id, { active: true })).body.active).toBe(true);
    // Disabling ended its sessions: the old token stays refused; signing in again works.
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).status).toBe(401);
    const again = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } });
    expect(again.status).toBe(200);
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: again.body.accessToken })).status).toBe(200);
  });

  it("refuses bad bodies and unknown users, changing nothing", async () => {
    const user = await signUp(ctx.app);
    const before = await readTable(ctx.core.db);
    for (const body of [{}, { role: "root" }, { active: "yes" }, { role: "admin", extra: 1 }]) {
      expect((await patch(ctx, admin.token, user.id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await patch(ctx, admin.token, "01ARZ3NDEKTSV4RRFFQ69G5FAV", { active: false })).status).toBe(404);
    expect((await patch(ctx, admin.token, "not-an-id", { active: false })).status).toBe(404);
    expect((await patch(ctx, user.token, user.id, { role: "admin" })).status).toBe(403);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });
});

describe("the last active admin", () => {
  it("cannot be demoted or disabled: 409 LAST_ADMIN; with a second admin it can", async () => {
    const ctx = await app();
    const only = await signUpAdmin(ctx.app, ctx.core);
    for (const body of [{ role: "user" }, { active: false }]) {
      const res = await patch(ctx, only.token, only.id, body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("LAST_ADMIN");
    }
    const second = await signUp(ctx.app);
    await patch(ctx, only.token, second.id, { role: "admin" });
    expect((await patch(ctx, only.token, only.id, { role: "user" })).status).toBe(200);
    expect(await adminListStatus(ctx, second.token)).toBe(200);
    expect((await patch(ctx, second.token, second.id, { active: false })).body.error.code).toBe("LAST_ADMIN");
  });

  it("an admin made before the active-admin index existed joins it when the stack starts (ensureAdmin), so it counts as another admin", async () => {
    const ctx = await app();
    const old = await signUpAdmin(ctx.app, ctx.core);
    // As stored before the index: no gsi2 entry.
    await ctx.core.db.doc.send(
      new UpdateCommand({
        TableName: ctx.core.db.table,
        Key: { pk: `USER#${old.id}`, sk: "USER" },
        UpdateExpression: "REMOVE gsi2pk, gsi2sk",
      }),
    );
    const second = await signUp(ctx.app);
    expect((await patch(ctx, old.token, second.id, { role: "admin" })).status).toBe(200);
    expect((await patch(ctx, old.token, second.id, { role: "user" })).body.error.code).toBe("LAST_ADMIN");
    await ensureAdmin(ctx.core, { email: old.email, password: old.password });
    expect((await patch(ctx, old.token, second.id, { role: "user" })).status).toBe(200);
  });

  it("two admins demoting each other at once: exactly one wins, one admin is left", async () => {
    const ctx = await app();
    const [a, b] = [await signUpAdmin(ctx.app, ctx.core), await signUpAdmin(ctx.app, ctx.core)];
    const [ab, ba] = await Promise.all([patch(ctx, a.token, b.id, { role: "user" }), patch(ctx, b.token, a.id, { role: "user" })]);
    const statuses = [ab.status, ba.status].sort();
    // The loser is either refused as the last admin (409) or, demoted first, no longer an admin (403).
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const admins = [await adminListStatus(ctx, a.token), await adminListStatus(ctx, b.token)];
    expect(admins.filter((s) => s === 200)).toHaveLength(1);
  });
});

describe("registration modes", () => {
  const register = (ctx: App, email = uniqueEmail()) =>
    call(ctx.app, "POST", "/api/v1/auth/register", { body: { email, password: "correct horse battery", fullName: "New" } });

  it("closed: nobody registers (403), nothing is written", async () => {
    const ctx = await app({ REGISTRATION_MODE: "closed" });
    const before = await readTable(ctx.core.db);
    const res = await register(ctx);
    expect(res.status).toBe(403);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("approval: the account is created inactive and signs in once an admin enables it", async () => {
    const ctx = await app({ REGISTRATION_MODE: "approval" });
    const admin = await signUpAdmin(ctx.app, ctx.core);
    const email = uniqueEmail();
    const res = await register(ctx, email);
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(false);
    const login = () => call(ctx.app, "POST", "/api/v1/auth/login", { body: { email, password: "correct horse battery" } });
    expect((await login()).status).toBe(403);
    expect((await patch(ctx, admin.token, res.body.id, { active: true })).status).toBe(200);
    expect((await login()).status).toBe(200);
  });

  it("ALLOWED_EMAIL_DOMAINS: only those domains register (any letter case)", async () => {
    const ctx = await app({ ALLOWED_EMAIL_DOMAINS: "lab.example.org, uni.example.edu" });
    const refused = await register(ctx, uniqueEmail().replace(/@.*/, "@elsewhere.com"));
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([{ path: "email", message: "must be an address at lab.example.org, uni.example.edu" }]);
    expect((await register(ctx, uniqueEmail().replace(/@.*/, "@Lab.Example.ORG"))).status).toBe(201);
    // A subdomain is another domain.
    expect((await register(ctx, uniqueEmail().replace(/@.*/, "@x.lab.example.org"))).status).toBe(400);
  });

  it("refuses a malformed setting at start", async () => {
    await expect(testApp({ REGISTRATION_MODE: "invite-only" })).rejects.toThrow(/REGISTRATION_MODE/);
    await expect(testApp({ ALLOWED_EMAIL_DOMAINS: "not a domain" })).rejects.toThrow(/ALLOWED_EMAIL_DOMAINS/);
  });
});
