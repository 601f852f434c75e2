/** The login lockout (auth/lockout.ts) over HTTP against DynamoDB Local, with a clock the test
 * moves: 5 failed logins for one email within 15 minutes lock it (429 TOO_MANY_ATTEMPTS with
 * Retry-After, the right password included), the lock grows with each failure past it, a success
 * clears the count, unknown emails are counted alike, and of concurrent attempts no more than the
 * limit reach the password check. */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLoginAttemptsItem } from "../packages/core/src/auth/store";
import { testApp } from "./support/core";
import { call, signUp, uniqueEmail } from "./support/http";

let clock = new Date("2026-12-07T10:00:00.000Z");
let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  ctx = await testApp({}, { now: () => new Date(clock) });
});
afterAll(() => ctx.engine.shutdown());

const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const login = (email: string, password: string) => call(ctx.app, "POST", "/api/v1/auth/login", { body: { email, password } });
const failTimes = async (email: string, n: number) => {
  for (let i = 0; i < n; i++) expect((await login(email, "wrong password!")).status).toBe(401);
};

describe("login lockout", () => {
  it("locks an email after 5 failures: the right password then gets 429 with Retry-After until the lock passes", async () => {
    const user = await signUp(ctx.app);
    await failTimes(user.email, 5);
    const locked = await login(user.email, user.password);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("TOO_MANY_ATTEMPTS");
    expect(Number(locked.headers.get("retry-after"))).toBe(60);
    expect(locked.body.error.retryAfterSeconds).toBe(60);
    // Letter case does not make another email.
    expect((await login(user.email.toUpperCase(), user.password)).status).toBe(429);

    // Someone else is not affected.
    const other = await signUp(ctx.app);
    expect((await login(other.email, other.password)).status).toBe(200);

    advance(30_000);
    const later = await login(user.email, user.password);
    expect(later.status).toBe(429);
    expect(Number(later.headers.get("retry-after"))).toBe(30);

    advance(31_000);
    expect((await login(user.email, user.password)).status).toBe(200);
    // The success cleared the count: one more failure is a plain 401, and the next login works.
    expect(await getLoginAttemptsItem(ctx.core.db, user.email)).toBeUndefined();
    await failTimes(user.email, 1);
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it("doubles the lock with each failure past the limit, up to 15 minutes", async () => {
    const user = await signUp(ctx.app);
    await failTimes(user.email, 5);
    advance(61_000);
    await failTimes(user.email, 1); // the 6th: allowed (the lock had passed), counted
    const locked = await login(user.email, user.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBe(120);
    for (const expected of [240, 480, 900, 900]) {
      advance(Number((await login(user.email, user.password)).headers.get("retry-after")) * 1000);
      await failTimes(user.email, 1);
      expect(Number((await login(user.email, user.password)).headers.get("retry-after"))).toBe(expected);
    }
  });

  it("counts failures within 15 minutes only", async () => {
    const user = await signUp(ctx.app);
    await failTimes(user.email, 4);
    advance(15 * 60_000 + 1000);
    await failTimes(user.email, 4);
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it("locks an unknown email the same way (a lockout tells nothing about which emails exist)", async () => {
    const email = uniqueEmail("nobody");
    await failTimes(email, 5);
    const locked = await login(email, "wrong password!");
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("TOO_MANY_ATTEMPTS");
  });

  it("lets no more than 5 of concurrent attempts reach the password check, and counts each that did", async () => {
    const user = await signUp(ctx.app);
    const results = await Promise.all(Array.from({ length: 20 }, () => login(user.email, "wrong password!")));
    expect(results.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    const checked = results.filter((r) => r.status === 401).length;
    // Each attempt that loses its turn reads again: the 5 turns go to 5 attempts, the rest find the lock.
    expect(checked).toBe(5);
    const item = await getLoginAttemptsItem(ctx.core.db, user.email);
    expect(item?.failures).toBe(checked);
    expect((await login(user.email, user.password)).status).toBe(429);
  });
});
