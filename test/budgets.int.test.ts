/** Org budgets over HTTP: PUT budget validation, the spend committed in the submission transaction
 * (refused with 400 BUDGET_EXCEEDED, even under 50 concurrent submissions), given back or settled
 * when a job ends, opened at the budget in a new month, and the 80 % / 100 % alerts recorded once,
 * as a reaction to the spend's change on the table's stream (SPEC §10). */

import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getSpendItem } from "../packages/core/src/org/store";
import { periodOf } from "../packages/core/src/quota/quota";
import { auditTable, readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

// validJob(): 1 A100 for 1 hour at the cheapest catalog price, 0.90 USD.
const JOB_USD = 0.9;
const JOB_MICROS = 900_000;

let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: Awaited<ReturnType<typeof signUpAdmin>>;
beforeAll(async () => {
  // A big quota, so the budget is the only limit. A long request timeout: 50 submissions racing for
  // one spend item retry their conflicting transactions, and under the whole suite's load DynamoDB
  // Local can take longer than the default 2 s per call; this file checks the budget, not timeouts.
  ctx = await testApp({ DEFAULT_MONTHLY_GPU_HOURS: "100000", AWS_REQUEST_TIMEOUT_MS: "10000" });
  admin = await signUpAdmin(ctx.app, ctx.core);
});
afterAll(() => ctx.engine.shutdown());

let counter = 0;
type App = typeof ctx.app;

/** An org owned by a new user, with `memberCount` more members. */
async function orgWith(app: App, memberCount = 0) {
  const owner = await signUp(app);
  const org = await call(app, "POST", "/api/v1/orgs", { token: owner.token, body: { name: `Budget ${Date.now()} ${counter++}` } });
  const members = await Promise.all(Array.from({ length: memberCount }, () => signUp(app)));
  for (const m of members) await call(app, "POST", "/api/v1/orgs/join", { token: m.token, body: { inviteCode: org.body.inviteCode } });
  return { owner, members, orgId: org.body.id as string };
}
const setBudget = (app: App, token: string, orgId: string, monthlyUsd: unknown) =>
  call(app, "PUT", `/api/v1/orgs/${orgId}/budget`, { token, body: { monthlyUsd } });
const submit = (app: App, token: string, orgId: string, overrides: Record<string, unknown> = {}) =>
  call(app, "POST", "/api/v1/jobs", { token, body: validJob({ orgId, ...overrides }) });
/** The org's alerts once every change committed so far has had its reactions. */
const alerts = async (app: App, token: string, orgId: string) => {
  await ctx.settle();
  return (await call(app, "GET", `/api/v1/orgs/${orgId}/alerts`, { token })).body.items;
};
const spend = (orgId: string, period = periodOf(new Date())) => getSpendItem(ctx.core.db, orgId, period, true);

describe("PUT /orgs/{id}/budget", () => {
  it("takes USD with at most 2 decimals, more than 0, and refuses anything else with 400, writing nothing", async () => {
    const { owner, orgId } = await orgWith(ctx.app);
    const before = await readTable(ctx.core.db);
    const bad = [0, "0", "0.00", -5, "-5", "1.234", 1.234, "abc", "1e3", 1e21, "10000000.01", 10000001, "", " 5", true, null, [], {}];
    for (const monthlyUsd of bad) {
      const res = await setBudget(ctx.app, owner.token, orgId, monthlyUsd);
      expect(res.status, JSON.stringify(monthlyUsd)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    expect((await call(ctx.app, "PUT", `/api/v1/orgs/${orgId}/budget`, { token: owner.token, body: {} })).status).toBe(400);
    expect(
      (await call(ctx.app, "PUT", `/api/v1/orgs/${orgId}/budget`, { token: owner.token, body: { monthlyUsd: "5", x: 1 } })).status,
    ).toBe(400);
    expect(await readTable(ctx.core.db)).toEqual(before);

    const ok = await setBudget(ctx.app, owner.token, orgId, 1500.5);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ orgId, monthlyBudgetUsd: "1500.50", spendUsd: "0.00", remainingUsd: "1500.50" });
    expect((await setBudget(ctx.app, owner.token, orgId, "10000000")).body.monthlyBudgetUsd).toBe("10000000.00");
    expect((await setBudget(ctx.app, owner.token, orgId, "0.01")).body.monthlyBudgetUsd).toBe("0.01");
  });

  it("is for the owner only: a member gets 403, a stranger 404, an admin 403", async () => {
    const { members, orgId } = await orgWith(ctx.app, 1);
    const stranger = await signUp(ctx.app);
    expect((await setBudget(ctx.app, members[0]!.token, orgId, "100")).status).toBe(403);
    expect((await setBudget(ctx.app, stranger.token, orgId, "100")).status).toBe(404);
    expect((await setBudget(ctx.app, admin.token, orgId, "100")).status).toBe(403);
  });

  it("a budget set after jobs were submitted counts them; lowering it below the spend refuses the next one", async () => {
    const { owner, orgId } = await orgWith(ctx.app);
    expect((await submit(ctx.app, owner.token, orgId)).status).toBe(201);
    expect((await submit(ctx.app, owner.token, orgId)).status).toBe(201);
    const set = await setBudget(ctx.app, owner.token, orgId, "2.00");
    expect(set.body).toMatchObject({ spendUsd: "1.80", remainingUsd: "0.20" });
    const mine = await call(ctx.app, "GET", "/api/v1/orgs", { token: owner.token });
    expect(mine.body.items[0]).toMatchObject({
      monthlyBudgetUsd: "2.00",
      monthToDate: { period: periodOf(new Date()), monthlyBudgetUsd: "2.00", spendUsd: "1.80", remainingUsd: "0.20" },
    });
    expect((await submit(ctx.app, owner.token, orgId)).body.error.code).toBe("BUDGET_EXCEEDED");
    // 1.80 of 2.00 is 90 %: the 80 % alert follows the PUT (a reaction to the budget's change).
    expect((await alerts(ctx.app, owner.token, orgId)).map((a: { thresholdPercent: number }) => a.thresholdPercent)).toEqual([80]);
    await setBudget(ctx.app, owner.token, orgId, "1.50");
    expect((await alerts(ctx.app, owner.token, orgId)).map((a: { thresholdPercent: number }) => a.thresholdPercent)).toEqual([80, 100]);
  });
});

describe("alerts", () => {
  it("records 80 % and 100 % once each, even with more submissions after", async () => {
    const { owner, members, orgId } = await orgWith(ctx.app, 1);
    await setBudget(ctx.app, owner.token, orgId, (5 * JOB_USD).toFixed(2));
    const member = members[0]!;
    for (let i = 0; i < 3; i++) expect((await submit(ctx.app, member.token, orgId)).status).toBe(201);
    expect(await alerts(ctx.app, owner.token, orgId)).toEqual([]);

    expect((await submit(ctx.app, member.token, orgId)).status).toBe(201); // 3.60 of 4.50: 80 %
    expect(await alerts(ctx.app, owner.token, orgId)).toEqual([
      { orgId, period: periodOf(new Date()), thresholdPercent: 80, spendUsd: "3.60", budgetUsd: "4.50", at: expect.any(String) },
    ]);
    const last = await submit(ctx.app, member.token, orgId); // 4.50 of 4.50: 100 %
    expect(last.status).toBe(201);
    const refused = await submit(ctx.app, member.token, orgId);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("BUDGET_EXCEEDED");

    // Room again after a cancel, and the spend reaches 100 % a second time: no second alert.
    expect((await call(ctx.app, "POST", `/api/v1/jobs/${last.body.id}/cancel`, { token: member.token })).status).toBe(200);
    expect((await submit(ctx.app, member.token, orgId)).status).toBe(201);
    const recorded = await alerts(ctx.app, owner.token, orgId);
    expect(recorded.map((a: { thresholdPercent: number }) => a.thresholdPercent)).toEqual([80, 100]);
    expect(recorded[1]).toMatchObject({ spendUsd: "4.50", budgetUsd: "4.50" });

    // Owners and admins read alerts; members are refused, strangers told there is no such org.
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${orgId}/alerts`, { token: admin.token })).status).toBe(200);
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${orgId}/alerts`, { token: member.token })).status).toBe(403);
    const stranger = await signUp(ctx.app);
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${orgId}/alerts`, { token: stranger.token })).status).toBe(404);
  });
});

/** The table's doc client with every BudgetAlert Put failing while `failing()` says so. */
function failingAlertPuts(failing: () => boolean) {
  const real = ctx.core.db.doc;
  const send = real.send.bind(real);
  ctx.core.db.doc = Object.assign(Object.create(real), {
    send: (command: unknown) =>
      failing() && command instanceof PutCommand && command.input.Item?.type === "BudgetAlert"
        ? Promise.reject(new Error("crashed"))
        : send(command as never),
  });
  return () => {
    ctx.core.db.doc = real;
  };
}

describe("alerts when their write fails", () => {
  it("an alert whose Put fails is recorded when the stream delivers the spend's change again, once", async () => {
    const { owner, orgId } = await orgWith(ctx.app);
    await setBudget(ctx.app, owner.token, orgId, "1.00");
    let failures = 1;
    const restore = failingAlertPuts(() => failures-- > 0);
    try {
      expect((await submit(ctx.app, owner.token, orgId)).status).toBe(201); // 0.90 of 1.00
      expect(await alerts(ctx.app, owner.token, orgId)).toEqual([expect.objectContaining({ thresholdPercent: 80, spendUsd: "0.90" })]);
      expect(failures).toBeLessThan(0); // the first Put did fail
    } finally {
      restore();
    }
  });

  it("an alert lost for good (the stream gave the record up) is recorded by the next change of the spend", async () => {
    const { owner, orgId } = await orgWith(ctx.app);
    await setBudget(ctx.app, owner.token, orgId, "1.00");
    let failing = true;
    const restore = failingAlertPuts(() => failing);
    try {
      expect((await submit(ctx.app, owner.token, orgId)).status).toBe(201); // 0.90 of 1.00: 80 %, lost
      expect(await alerts(ctx.app, owner.token, orgId)).toEqual([]);
      failing = false;
      expect((await submit(ctx.app, owner.token, orgId, { estimatedHours: 0.05 })).status).toBe(201); // 0.945
      expect(await alerts(ctx.app, owner.token, orgId)).toEqual([expect.objectContaining({ thresholdPercent: 80, spendUsd: "0.945" })]);
    } finally {
      restore();
    }
  });
});

describe("the budget under concurrency", () => {
  it("50 concurrent submissions against a budget that fits 7: exactly 7 win, the rest are BUDGET_EXCEEDED", async () => {
    const { owner, members, orgId } = await orgWith(ctx.app, 4);
    const N = 7;
    await setBudget(ctx.app, owner.token, orgId, (N * JOB_USD).toFixed(2));
    const submitters = [owner, ...members];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submit(ctx.app, submitters[i % submitters.length]!.token, orgId, { name: `job-${i}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(N);
    const others = results.filter((r) => r.status !== 201 && r.status !== 400).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
    expect(
      statuses.filter((s) => s === 400),
      others.slice(0, 3).join("; "),
    ).toHaveLength(50 - N);
    expect(results.filter((r) => r.status === 400).every((r) => r.body.error.code === "BUDGET_EXCEEDED")).toBe(true);

    const item = await spend(orgId);
    expect(item).toMatchObject({ committedMicros: N * JOB_MICROS, budgetMicros: N * JOB_MICROS, remainingMicros: 0 });
    const jobs = (await readTable(ctx.core.db)).filter((i) => i.type === "Job" && i.orgId === orgId);
    expect(jobs).toHaveLength(N);
    expect((await alerts(ctx.app, owner.token, orgId)).map((a: { thresholdPercent: number }) => a.thresholdPercent)).toEqual([80, 100]);
    expect(await auditTable(ctx.core.db)).toEqual([]);
  });
});

describe("settling the spend", () => {
  it("a cancelled or rejected job gives its estimate back", async () => {
    const { owner, orgId } = await orgWith(ctx.app);
    await setBudget(ctx.app, owner.token, orgId, (2 * JOB_USD).toFixed(2));
    const a = await submit(ctx.app, owner.token, orgId);
    const b = await submit(ctx.app, owner.token, orgId);
    expect((await submit(ctx.app, owner.token, orgId)).status).toBe(400);

    expect((await call(ctx.app, "POST", `/api/v1/jobs/${a.body.id}/cancel`, { token: owner.token })).status).toBe(200);
    expect(await spend(orgId)).toMatchObject({ committedMicros: JOB_MICROS, remainingMicros: JOB_MICROS });
    const api = lifecycleApi(ctx.app, ctx.engine);
    await api.untilWaiting(b.body.id);
    expect((await api.act(admin.token, b.body.id, "reject", { reason: "no" })).status).toBe(200);
    expect(await spend(orgId)).toMatchObject({ committedMicros: 0, remainingMicros: 2 * JOB_MICROS });
    expect((await submit(ctx.app, owner.token, orgId)).status).toBe(201);
  });

  it("a job that ends early is settled to its actual cost; a new month opens at the budget", async () => {
    let clock = new Date("2026-03-31T22:00:00.000Z");
    const timed = await testApp({ DEFAULT_MONTHLY_GPU_HOURS: "100000", SIMULATION_SECONDS_PER_HOUR: "3600" }, { now: () => clock });
    try {
      const boss = await signUpAdmin(timed.app, timed.core);
      const { owner, orgId } = await orgWith(timed.app);
      await setBudget(timed.app, owner.token, orgId, "10");
      const api = lifecycleApi(timed.app, timed.engine);
      const job = await api.submit(owner.token, { orgId, estimatedHours: 2 }); // 1.80 USD
      const march = () => getSpendItem(timed.core.db, orgId, "2026-03", true);
      expect(await march()).toMatchObject({ committedMicros: 2 * JOB_MICROS, remainingMicros: 10_000_000 - 2 * JOB_MICROS });

      await api.untilWaiting(job.id);
      expect((await api.act(boss.token, job.id, "approve")).status).toBe(200);
      await api.untilWaiting(job.id);
      expect((await api.act(boss.token, job.id, "start")).status).toBe(200);
      await api.untilInState(job.id, "SimulateGpuRuntime");
      clock = new Date(clock.getTime() + 30 * 60_000); // ran half an hour: 0.45 USD
      // Tokens expire as the clock moves: log in again.
      const relogin = async (u: { email: string; password: string }) =>
        (await call(timed.app, "POST", "/api/v1/auth/login", { body: { email: u.email, password: u.password } })).body
          .accessToken as string;
      const done = await api.act(await relogin(boss), job.id, "complete");
      expect(done.status).toBe(200);
      expect(done.body.actualCostUsd).toBe("0.45");
      expect(await march()).toMatchObject({ committedMicros: 450_000, remainingMicros: 10_000_000 - 450_000 });

      // April: the first submission opens the month at the org's budget; March keeps its spend.
      clock = new Date("2026-04-01T00:00:01.000Z");
      const ownerToken = await relogin(owner);
      const april = await api.submit(ownerToken, { orgId });
      expect(await getSpendItem(timed.core.db, orgId, "2026-04", true)).toMatchObject({
        committedMicros: JOB_MICROS,
        budgetMicros: 10_000_000,
        remainingMicros: 10_000_000 - JOB_MICROS,
      });
      expect((await api.cancel(ownerToken, april.id)).status).toBe(200);
      expect(await getSpendItem(timed.core.db, orgId, "2026-04", true)).toMatchObject({ committedMicros: 0 });
      expect(await march()).toMatchObject({ committedMicros: 450_000 });
      expect(await auditTable(timed.core.db)).toEqual([]);
    } finally {
      await timed.engine.shutdown();
    }
  });
});
