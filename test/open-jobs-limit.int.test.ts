/** MAX_OPEN_JOBS_PER_USER (Slurm's MaxSubmitJobsPerUser) over HTTP against DynamoDB Local: a user
 * with that many jobs open (PENDING, APPROVED, RUNNING) is refused the next one with 400
 * OPEN_JOBS_LIMIT, writing nothing; any end (cancel, reject, completion) makes room again; racing
 * submissions cannot get past the limit; the count is per user. */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTable, readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";

const LIMIT = 3;
let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: Awaited<ReturnType<typeof signUpAdmin>>;
beforeAll(async () => {
  ctx = await testApp({ MAX_OPEN_JOBS_PER_USER: String(LIMIT), DEFAULT_MONTHLY_GPU_HOURS: "1000", SIMULATION_SECONDS_PER_HOUR: "3600" });
  admin = await signUpAdmin(ctx.app, ctx.core);
});
afterAll(() => ctx.engine.shutdown());

const submit = (token: string, i = 0) =>
  call(ctx.app, "POST", "/api/v1/jobs", { token, body: validJob({ name: `open-${i}`, estimatedHours: 0.001 }) });

describe("the open-jobs limit", () => {
  it("refuses the job past the limit with 400 OPEN_JOBS_LIMIT and writes nothing; an end makes room", async () => {
    const user = await signUp(ctx.app);
    const ids: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const res = await submit(user.token, i);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    const refused = await submit(user.token, 99);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("OPEN_JOBS_LIMIT");
    await ctx.settle();
    expect(await readTable(ctx.core.db)).toEqual(before);

    // Someone else is not affected.
    const other = await signUp(ctx.app);
    expect((await submit(other.token)).status).toBe(201);

    // Cancelling one makes room for exactly one.
    expect((await call(ctx.app, "POST", `/api/v1/jobs/${ids[0]}/cancel`, { token: user.token })).status).toBe(200);
    expect((await submit(user.token, 4)).status).toBe(201);
    expect((await submit(user.token, 5)).body.error.code).toBe("OPEN_JOBS_LIMIT");

    // So does a rejection by an admin.
    expect(
      (await call(ctx.app, "POST", `/api/v1/admin/jobs/${ids[1]}/reject`, { token: admin.token, body: { reason: "no" } })).status,
    ).toBe(200);
    expect((await submit(user.token, 6)).status).toBe(201);
  });

  it("lets exactly LIMIT of many concurrent submissions through", async () => {
    const user = await signUp(ctx.app);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(user.token, i)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === 400).every((r) => r.body.error.code === "OPEN_JOBS_LIMIT")).toBe(true);
    const mine = await call(ctx.app, "GET", "/api/v1/jobs?limit=100", { token: user.token });
    expect(mine.body.items).toHaveLength(LIMIT);
    // The table's invariants hold (quota reserved = the open jobs' reservations, ...).
    await ctx.settle();
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });
});
