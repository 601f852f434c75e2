/** The per-user submission rate limit (quota/rate.ts, GCRA) over HTTP against DynamoDB Local, with
 * a clock the test moves: SUBMIT_BURST submissions pass at once, the next is 429 TOO_MANY_ATTEMPTS
 * with Retry-After and writes nothing, room comes back at SUBMIT_RATE_PER_SECOND, racing
 * submissions cannot pass the burst, each user has their own bucket, and the defaults let a burst of
 * 200 through. */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, validJob } from "./support/http";

let clock = new Date("2026-12-07T10:00:00.000Z");
let ctx: Awaited<ReturnType<typeof testApp>>;
let defaults: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  // A long request timeout: bursts of one user's submissions race for their items, and under the
  // whole suite's load DynamoDB Local can take longer than 2 s a call; this file checks the limit.
  const env = { DEFAULT_MONTHLY_GPU_HOURS: "100000", SIMULATION_SECONDS_PER_HOUR: "3600", AWS_REQUEST_TIMEOUT_MS: "10000" };
  ctx = await testApp({ ...env, SUBMIT_BURST: "5", SUBMIT_RATE_PER_SECOND: "2" }, { now: () => new Date(clock) });
  defaults = await testApp(env);
});
afterAll(() => Promise.all([ctx.engine.shutdown(), defaults.engine.shutdown()]));

const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const submit = (app: typeof ctx.app, token: string) => call(app, "POST", "/api/v1/jobs", { token, body: validJob() });

describe("the submission rate limit", () => {
  it("lets the burst through, refuses the next with 429 and Retry-After (writing nothing), and refills at the rate", async () => {
    const user = await signUp(ctx.app);
    for (let i = 0; i < 5; i++) expect((await submit(ctx.app, user.token)).status).toBe(201);
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    const refused = await submit(ctx.app, user.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("TOO_MANY_ATTEMPTS");
    expect(Number(refused.headers.get("retry-after"))).toBe(1);
    await ctx.settle();
    expect(await readTable(ctx.core.db)).toEqual(before);

    // Someone else has their own bucket.
    const other = await signUp(ctx.app);
    expect((await submit(ctx.app, other.token)).status).toBe(201);

    // 2 per second: half a second gives one more, not two.
    advance(500);
    expect((await submit(ctx.app, user.token)).status).toBe(201);
    expect((await submit(ctx.app, user.token)).status).toBe(429);
    // Idle long enough, the whole burst is back.
    advance(10_000);
    for (let i = 0; i < 5; i++) expect((await submit(ctx.app, user.token)).status).toBe(201);
    expect((await submit(ctx.app, user.token)).status).toBe(429);
  });

  it("racing submissions: exactly the burst passes", async () => {
    advance(60_000);
    const user = await signUp(ctx.app);
    const results = await Promise.all(Array.from({ length: 12 }, () => submit(ctx.app, user.token)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });

  it("with the defaults, a burst of 200 submissions from one user passes", async () => {
    const user = await signUp(defaults.app);
    let created = 0;
    for (let i = 0; i < 10; i++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => submit(defaults.app, user.token)));
      expect(batch.filter((r) => r.status !== 201).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
      created += batch.length;
    }
    expect(created).toBe(200);
  }, 60_000);
});
