/** Auth over HTTP against DynamoDB Local: register, login, /me and every token failure mode. */

import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createCore, generateSigningKey, publicHalf } from "@gpuaas/core";
import { createApp } from "@gpuaas/functions";
import { decodeProtectedHeader, importJWK, SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../packages/core/src/auth/password";
import { userKeys } from "../packages/core/src/user/keys";
import { readTable } from "./support/audit";
import { TEST_SIGNING_KEY, testApp, testConfig } from "./support/core";
import { call, signUp, signUpAdmin, uniqueEmail, validJob } from "./support/http";

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  ctx = await testApp();
});

const signingKey = (key: ReturnType<typeof generateSigningKey>) => importJWK({ ...key, alg: "ES256" }, "ES256");

const register = (body: unknown) => call(ctx.app, "POST", "/api/v1/auth/register", { body });

/** Disables an account as an operator would, straight in the table. */
const disableAccount = (userId: string) =>
  ctx.core.db.doc.send(
    new UpdateCommand({
      TableName: ctx.core.db.table,
      Key: userKeys.user(userId),
      UpdateExpression: "SET active = :f",
      ExpressionAttributeValues: { ":f": false },
    }),
  );

describe("register", () => {
  it("creates a user and never returns the password hash", async () => {
    const email = uniqueEmail();
    const res = await register({ email, password: "long enough pw", fullName: "Ada" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email, fullName: "Ada", role: "user", active: true });
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|password/i);
  });

  it("answers a taken email (any letter case) exactly as a free one, and writes nothing: registration tells nobody who has an account", async () => {
    const email = uniqueEmail();
    const first = await register({ email, password: "long enough pw", fullName: "A" });
    expect(first.status).toBe(201);
    const before = await readTable(ctx.core.db);
    const dup = await register({ email: email.toUpperCase(), password: "other long pw", fullName: "A" });
    expect(dup.status).toBe(201);
    expect(Object.keys(dup.body).sort()).toEqual(Object.keys(first.body).sort());
    expect(dup.body).toMatchObject({ fullName: "A", role: "user", active: true });
    expect(dup.body.id).not.toBe(first.body.id);
    expect(await readTable(ctx.core.db)).toEqual(before);
    // The account is the first one: its password signs in, the second's does not.
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email, password: "long enough pw" } })).status).toBe(200);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email, password: "other long pw" } })).status).toBe(401);
  });

  it("of many concurrent registrations of one email, exactly one account is made; all answer alike", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        register({ email: i % 2 ? email : email.toUpperCase(), password: `long enough pw ${i}`, fullName: `R${i}` }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const accounts = (await readTable(ctx.core.db)).filter(
      (item) => item.type === "User" && String(item.email).toLowerCase() === email.toLowerCase(),
    );
    expect(accounts).toHaveLength(1);
  });

  it.each([
    [{ email: "not-an-email", password: "long enough pw", fullName: "A" }, "email"],
    [{ email: uniqueEmail(), password: "short", fullName: "A" }, "password"],
    [{ email: uniqueEmail(), password: "long enough pw", fullName: "" }, "fullName"],
    [{ email: uniqueEmail(), password: "long enough pw", fullName: "Ada \u202ELovelace" }, "fullName"],
    [{ email: uniqueEmail(), password: "long enough pw", fullName: "Ada\nAdmin" }, "fullName"],
    [{ email: uniqueEmail(), password: "long enough pw" }, "fullName"],
    [{ email: uniqueEmail(), password: "long enough pw", fullName: "A", role: "admin" }, ""],
  ])("rejects %j with 400 naming %s", async (body, field) => {
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.message).toContain(field);
  });

  it("cannot self-register as admin (unknown fields are rejected)", async () => {
    const email = uniqueEmail();
    await register({ email, password: "long enough pw", fullName: "A", role: "admin" });
    const login = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email, password: "long enough pw" } });
    expect(login.status).toBe(401);
  });
});

describe("login", () => {
  it("replaces a hash made at older scrypt parameters on the next successful login, keeping the account's sessions", async () => {
    const user = await signUp(ctx.app);
    const key = userKeys.user(user.id);
    await ctx.core.db.doc.send(
      new UpdateCommand({
        TableName: ctx.core.db.table,
        Key: key,
        UpdateExpression: "SET passwordHash = :h",
        ExpressionAttributeValues: { ":h": await hashPassword(user.password, 10) },
      }),
    );
    const storedHash = async () =>
      String((await ctx.core.db.doc.send(new GetCommand({ TableName: ctx.core.db.table, Key: key }))).Item?.passwordHash);
    expect(await storedHash()).toMatch(/^scrypt\$1024\$/);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: "wrong password" } })).status).toBe(
      401,
    );
    expect(await storedHash()).toMatch(/^scrypt\$1024\$/);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })).status).toBe(200);
    expect(await storedHash()).toMatch(new RegExp(`^scrypt\\$${2 ** ctx.core.config.passwordHashCost}\\$8\\$1\\$`));
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).status).toBe(200);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })).status).toBe(200);
  });

  it("returns a bearer token that opens /me with the current quota", async () => {
    const user = await signUp(ctx.app);
    const login = await call(ctx.app, "POST", "/api/v1/auth/login", {
      body: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    const me = await call(ctx.app, "GET", "/api/v1/me", { token: login.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email: user.email });
    expect(me.body.quota).toEqual({
      period: new Date().toISOString().slice(0, 7),
      limitHours: 10,
      reservedHours: 0,
      usedHours: 0,
      remainingHours: 10,
    });
  });

  it("answers a wrong password and an unknown email with the same 401", async () => {
    const user = await signUp(ctx.app);
    const wrong = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: "nope nope nope" } });
    const unknown = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: uniqueEmail(), password: "nope nope nope" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it("refuses an inactive user", async () => {
    const user = await signUp(ctx.app);
    await disableAccount(user.id);
    const login = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(403);
    // A token issued before deactivation stops working at once, on every route.
    const me = await call(ctx.app, "GET", "/api/v1/me", { token: user.token });
    expect(me.status).toBe(403);
    expect((await call(ctx.app, "GET", "/api/v1/jobs", { token: user.token })).status).toBe(403);
  });

  it("refuses a disabled account on the routes that read the account with the job, before the job", async () => {
    const user = await signUp(ctx.app);
    const job = { name: "j", image: "img:1", command: "run", gpuType: "A100", gpuCount: 1, estimatedHours: 1 };
    const submitted = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, body: job });
    expect(submitted.status).toBe(201);
    await disableAccount(user.id);
    const id = submitted.body.id as string;
    for (const [method, path, body] of [
      ["GET", `/api/v1/jobs/${id}`],
      ["GET", `/api/v1/jobs/${id}/events`],
      ["GET", "/api/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/api/v1/jobs/not-an-id"],
      ["POST", "/api/v1/jobs", job],
      ["POST", "/api/v1/jobs", { ...job, gpuCount: -1 }],
    ] as const) {
      const res = await call(ctx.app, method, path, { token: user.token, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('"status"');
    }
  });

  it("a token claiming admin lets a plain user see no other user's job", async () => {
    const owner = await signUp(ctx.app);
    const other = await signUp(ctx.app);
    const job = { name: "j", image: "img:1", command: "run", gpuType: "A100", gpuCount: 1, estimatedHours: 1 };
    const { body } = await call(ctx.app, "POST", "/api/v1/jobs", { token: owner.token, body: job });
    const forged = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "ES256", kid: TEST_SIGNING_KEY.kid })
      .setSubject(other.id)
      .setIssuer("gpuaas")
      .setAudience("gpuaas-api")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(await signingKey(TEST_SIGNING_KEY));
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${body.id}`, { token: forged })).status).toBe(404);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${body.id}/events`, { token: forged })).status).toBe(404);
  });

  it("takes the role from the stored account, not the token: a demoted admin loses admin routes at once", async () => {
    const admin = await signUpAdmin(ctx.app, ctx.core);
    expect((await call(ctx.app, "GET", "/api/v1/admin/jobs", { token: admin.token })).status).toBe(200);
    await ctx.core.db.doc.send(
      new UpdateCommand({
        TableName: ctx.core.db.table,
        Key: userKeys.user(admin.id),
        UpdateExpression: "SET #role = :user",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: { ":user": "user" },
      }),
    );
    const res = await call(ctx.app, "GET", "/api/v1/admin/jobs", { token: admin.token });
    expect(res.status).toBe(403);
  });

  it("a validly signed token claiming admin for a plain user grants nothing", async () => {
    const user = await signUp(ctx.app);
    const forged = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "ES256", kid: TEST_SIGNING_KEY.kid })
      .setSubject(user.id)
      .setIssuer("gpuaas")
      .setAudience("gpuaas-api")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(await signingKey(TEST_SIGNING_KEY));
    expect((await call(ctx.app, "GET", "/api/v1/admin/jobs", { token: forged })).status).toBe(403);
  });
});

describe("bearer tokens", () => {
  let secret: Awaited<ReturnType<typeof signingKey>>;
  const now = () => Math.floor(Date.now() / 1000);
  const good = (sub: string, kid = TEST_SIGNING_KEY.kid) =>
    new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "ES256", kid })
      .setSubject(sub)
      .setIssuer("gpuaas")
      .setAudience("gpuaas-api")
      .setIssuedAt();
  let userId: string;
  let token: string;
  beforeAll(async () => {
    ({ id: userId, token } = await signUp(ctx.app));
    secret = await signingKey(TEST_SIGNING_KEY);
  });

  const me = (t?: string, raw?: string) => call(ctx.app, "GET", "/api/v1/me", raw ? { headers: { authorization: raw } } : { token: t });

  it("accepts the token login issued", async () => {
    expect((await me(token)).status).toBe(200);
  });

  it.each<[string, () => Promise<string>]>([
    ["no token", async () => ""],
    [
      "alg none",
      async () =>
        new UnsecuredJWT({ role: "admin" })
          .setSubject("x")
          .setIssuer("gpuaas")
          .setAudience("gpuaas-api")
          .setIssuedAt()
          .setExpirationTime("1h")
          .encode(),
    ],
    [
      "another key under the same kid",
      async () =>
        good(userId)
          .setExpirationTime("1h")
          .sign(await signingKey(generateSigningKey(TEST_SIGNING_KEY.kid))),
    ],
    [
      "a kid the API does not know",
      async () =>
        good(userId, "nobody")
          .setExpirationTime("1h")
          .sign(await signingKey(generateSigningKey("nobody"))),
    ],
    [
      "HS256 keyed with the published public key (algorithm confusion)",
      async () =>
        new SignJWT({ role: "admin" })
          .setProtectedHeader({ alg: "HS256", kid: TEST_SIGNING_KEY.kid })
          .setSubject(userId)
          .setIssuer("gpuaas")
          .setAudience("gpuaas-api")
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(JSON.stringify(publicHalf(TEST_SIGNING_KEY)))),
    ],
    [
      "expired",
      async () =>
        good(userId)
          .setIssuedAt(now() - 3600)
          .setExpirationTime(now() - 60)
          .sign(secret),
    ],
    ["wrong issuer", async () => good(userId).setIssuer("evil").setExpirationTime("1h").sign(secret)],
    ["wrong audience", async () => good(userId).setAudience("other").setExpirationTime("1h").sign(secret)],
    ["no expiry", async () => good(userId).sign(secret)],
    [
      "tampered payload",
      async () => {
        const [h, , s] = token.split(".");
        const payload = Buffer.from(
          JSON.stringify({ sub: userId, role: "admin", iss: "gpuaas", aud: "gpuaas-api", iat: now(), exp: now() + 600 }),
        ).toString("base64url");
        return `${h}.${payload}.${s}`;
      },
    ],
    ["garbage", async () => "not.a.jwt"],
  ])("rejects %s with 401", async (_, make) => {
    const res = await me(await make());
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("rejects a non-Bearer Authorization header with 401", async () => {
    expect((await me(undefined, `Basic ${Buffer.from("a:b").toString("base64")}`)).status).toBe(401);
  });
});

describe("token keys", () => {
  it("publishes the public keys at /.well-known/jwks.json, never the private part; tokens name their key", async () => {
    const res = await call(ctx.app, "GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ keys: [{ ...publicHalf(TEST_SIGNING_KEY), alg: "ES256", use: "sig" }] });
    expect(JSON.stringify(res.body)).not.toContain(TEST_SIGNING_KEY.d);
    const { token } = await signUp(ctx.app);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", typ: "JWT", kid: TEST_SIGNING_KEY.kid });
  });

  it("rotation: after a new signing key, the old one's tokens verify while it is listed in JWT_RETIRED_KEYS, and no longer once it is dropped", async () => {
    const user = await signUp(ctx.app);
    const next = generateSigningKey("next-key");
    const rotated = createApp(
      createCore(
        testConfig({
          TABLE_NAME: ctx.core.config.tableName,
          JWT_SIGNING_KEY: JSON.stringify(next),
          JWT_RETIRED_KEYS: JSON.stringify([publicHalf(TEST_SIGNING_KEY)]),
        }),
      ),
    );
    expect((await call(rotated, "GET", "/api/v1/me", { token: user.token })).status).toBe(200);
    const fresh = await call(rotated, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } });
    expect(decodeProtectedHeader(fresh.body.accessToken).kid).toBe("next-key");
    expect((await call(rotated, "GET", "/.well-known/jwks.json")).body.keys.map((k: { kid: string }) => k.kid)).toEqual([
      "next-key",
      TEST_SIGNING_KEY.kid,
    ]);

    const retiredDropped = createApp(
      createCore(testConfig({ TABLE_NAME: ctx.core.config.tableName, JWT_SIGNING_KEY: JSON.stringify(next) })),
    );
    expect((await call(retiredDropped, "GET", "/api/v1/me", { token: user.token })).status).toBe(401);
    expect((await call(retiredDropped, "GET", "/api/v1/me", { token: fresh.body.accessToken })).status).toBe(200);
  });
});

describe("ending sessions: logout and a password change", () => {
  /** Every way a request checks the account: read by the middleware (/me, GET /jobs), read with the
   * job (GET /jobs/:id), and checked inside the submission's transaction (POST /jobs). */
  const everyRoute = async (token: string, jobId: string) => ({
    me: (await call(ctx.app, "GET", "/api/v1/me", { token })).status,
    list: (await call(ctx.app, "GET", "/api/v1/jobs", { token })).status,
    job: (await call(ctx.app, "GET", `/api/v1/jobs/${jobId}`, { token })).status,
    submit: (await call(ctx.app, "POST", "/api/v1/jobs", { token, body: validJob() })).status,
  });
  const signedOut = { me: 401, list: 401, job: 401, submit: 401 };
  const myJobs = async (token: string) => (await call(ctx.app, "GET", "/api/v1/jobs", { token })).body.items.length;

  it("logout ends every token of the account at once, this one included; a new login works", async () => {
    const user = await signUp(ctx.app);
    const second = (await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })).body
      .accessToken as string;
    const job = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, body: validJob() });
    expect(job.status).toBe(201);

    const out = await call(ctx.app, "POST", "/api/v1/auth/logout", { token: user.token });
    expect(out.status).toBe(204);
    expect(await everyRoute(user.token, job.body.id)).toEqual(signedOut);
    expect(await everyRoute(second, job.body.id)).toEqual(signedOut);
    expect((await call(ctx.app, "POST", "/api/v1/auth/logout", { token: user.token })).status).toBe(401);

    const again = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } });
    expect(again.status).toBe(200);
    // The refused submissions wrote nothing: still the one job.
    expect(await myJobs(again.body.accessToken)).toBe(1);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${job.body.id}`, { token: again.body.accessToken })).status).toBe(200);
  });

  it("a password change needs the current password, ends every older token and answers a new one", async () => {
    const user = await signUp(ctx.app);
    const job = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, body: validJob() });
    const wrong = await call(ctx.app, "POST", "/api/v1/auth/password", {
      token: user.token,
      body: { currentPassword: "not my password", newPassword: "a new password 42" },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues).toEqual([{ path: "currentPassword", message: "is wrong" }]);
    // Refused: the old token still works, the password is unchanged.
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: user.token })).status).toBe(200);

    const changed = await call(ctx.app, "POST", "/api/v1/auth/password", {
      token: user.token,
      body: { currentPassword: user.password, newPassword: "a new password 42" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ tokenType: "Bearer", accessToken: expect.any(String) });
    expect(await everyRoute(user.token, job.body.id)).toEqual(signedOut);
    expect((await call(ctx.app, "GET", "/api/v1/me", { token: changed.body.accessToken })).status).toBe(200);
    expect(await myJobs(changed.body.accessToken)).toBe(1);

    const oldLogin = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } });
    expect(oldLogin.status).toBe(401);
    const newLogin = await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: "a new password 42" } });
    expect(newLogin.status).toBe(200);
  });

  it("wrong current passwords count towards the login lockout", async () => {
    const user = await signUp(ctx.app);
    for (let i = 0; i < 5; i++) {
      const res = await call(ctx.app, "POST", "/api/v1/auth/password", {
        token: user.token,
        body: { currentPassword: `guess number ${i}`, newPassword: "a new password 42" },
      });
      expect(res.status).toBe(400);
    }
    const locked = await call(ctx.app, "POST", "/api/v1/auth/password", {
      token: user.token,
      body: { currentPassword: user.password, newPassword: "a new password 42" },
    });
    expect(locked.status).toBe(429);
    expect((await call(ctx.app, "POST", "/api/v1/auth/login", { body: { email: user.email, password: user.password } })).status).toBe(429);
  });
});
