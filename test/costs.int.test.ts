/** Costs end to end, on simulated time (a clock the test moves; SIMULATION_SECONDS_PER_HOUR 3600, so
 * wall hours are GPU-hours and a run ends only when an admin completes it): usage split across
 * midnight, running jobs in the rollup, rollup re-runs, GET /costs per groupBy and per caller, the
 * rollup's reads, validation, and the schedule's entry point. */
import { resolve } from "node:path";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Core } from "@gpuaas/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAccessToken } from "../packages/core/src/auth/token";
import { rollupDay } from "../packages/core/src/cost/rollup";
import { newId } from "../packages/core/src/util/id";
import { usdToMicros } from "../packages/core/src/util/money";
import { DAILY_COST_ROLLUP_HANDLER } from "../packages/functions/src/handlers";
import { runDailyCostRollup } from "../packages/functions/src/schedules/dailyCostRollup";
import { localSchedules } from "../packages/local/src/stack";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";
import { lifecycleApi } from "./support/lifecycle";

type Ctx = Awaited<ReturnType<typeof testApp>>;
interface Who {
  id: string;
  role: "user" | "admin";
}

/** A test world on its own table, with a clock the test sets. */
async function world() {
  const clock = { now: new Date("2026-01-01T00:00:00.000Z") };
  const ctx: Ctx = await testApp(
    { SIMULATION_SECONDS_PER_HOUR: "3600", DEFAULT_MONTHLY_GPU_HOURS: "100000" },
    { now: () => new Date(clock.now) },
  );
  const api = lifecycleApi(ctx.app, ctx.engine);
  const admin: Who = { id: (await signUpAdmin(ctx.app, ctx.core)).id, role: "admin" };
  const set = (iso: string) => {
    clock.now = new Date(iso);
  };
  /** A token valid at the clock's time (tokens are checked against the same clock). */
  const token = async (who: Who) =>
    (await issueAccessToken(ctx.core.config.jwt, { userId: who.id, role: who.role }, clock.now)).accessToken;
  const user = async (): Promise<Who> => ({ id: (await signUp(ctx.app)).id, role: "user" });
  const as = async (who: Who, method: string, path: string) => call(ctx.app, method, path, { token: await token(who) });

  /**
   * `count` jobs of `owner`, submitted and started at `start` and completed by an admin at `end`
   * (left RUNNING without one). Returns the jobs as the API shows them at the end.
   */
  async function runJobs(
    owner: Who,
    opts: { start: string; end?: string; endWith?: "complete" | "fail"; count?: number; orgId?: string; job?: Record<string, unknown> },
  ) {
    set(opts.start);
    const ids = await Promise.all(
      Array.from({ length: opts.count ?? 1 }, async () => {
        const { id } = await api.submit(await token(owner), {
          estimatedHours: 10,
          ...opts.job,
          ...(opts.orgId ? { orgId: opts.orgId } : {}),
        });
        return id as string;
      }),
    );
    const act = async (action: "approve" | "start" | "complete", state: string) =>
      Promise.all(
        ids.map(async (id) => {
          await api.untilInState(id, state);
          await api.untilWaiting(id);
          const res = await api.act(await token(admin), id, action);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
        }),
      );
    await act("approve", "AwaitApproval");
    await act("start", "AwaitStart");
    await Promise.all(ids.map((id) => api.untilInState(id, "SimulateGpuRuntime")));
    if (opts.end) {
      set(opts.end);
      await Promise.all(
        ids.map(async (id) => {
          const res =
            opts.endWith === "fail"
              ? await api.act(await token(admin), id, "fail", { errorMessage: "node lost" })
              : await api.act(await token(admin), id, "complete");
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          await ctx.engine.settled(id);
        }),
      );
    }
    return Promise.all(ids.map(async (id) => (await as(admin, "GET", `/api/v1/jobs/${id}`)).body));
  }

  /** An org created by `owner` through the API, joined by `members` with its invite code. */
  async function org(owner: Who, members: Who[] = []): Promise<string> {
    const created = await call(ctx.app, "POST", "/api/v1/orgs", { token: await token(owner), body: { name: `costs-${newId()}` } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const member of members) {
      const joined = await call(ctx.app, "POST", "/api/v1/orgs/join", {
        token: await token(member),
        body: { inviteCode: created.body.inviteCode },
      });
      expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    }
    return created.body.id as string;
  }

  const rollup = async (day: string) => {
    const res = await as(admin, "POST", `/api/v1/admin/costs/rollup?date=${day}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  return { ctx, clock, set, token, user, admin, as, runJobs, rollup, org };
}

// ---- helpers ----------------------------------------------------------------------------------

const micros = (usd: string) => usdToMicros(usd);
const sumMicros = (values: string[]) => values.reduce((s, v) => s + micros(v), 0);
type Snapshot = { kind: string; provider?: string; gpuType?: string; orgId?: string; costUsd: string; gpuHours: number; jobCount: number };
const byProvider = (snapshots: Snapshot[], provider: string, gpuType: string) =>
  snapshots.find((s) => s.kind === "providerGpu" && s.provider === provider && s.gpuType === gpuType);
/** A day's stored cost items, read straight from the table. */
const costItems = async (core: Core, day: string) => (await readTable(core.db)).filter((i) => i.pk === `COST#${day}`);

describe("the daily rollup", () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(() => w.ctx.engine.shutdown());

  it("splits a job that ran across midnight between both days, the shares summing to its actual cost", async () => {
    const owner = await w.user();
    // 3 × T4 at gcp (0.35/GPU-hour) from 23:20 to 01:00: 1.666 h per GPU (4.998 GPU-hours), 40 min then 60 min.
    const [job] = await w.runJobs(owner, {
      start: "2026-02-01T23:20:00.000Z",
      end: "2026-02-02T01:00:00.000Z",
      job: { gpuType: "T4", gpuCount: 3, provider: "gcp" },
    });
    expect(job.status).toBe("COMPLETED");
    expect(job.usedGpuHours).toBe(4.998);
    expect(job.actualCostUsd).toBe("1.7493");

    const day1 = await w.rollup("2026-02-01");
    const day2 = await w.rollup("2026-02-02");
    const [s1, s2] = [byProvider(day1.snapshots, "gcp", "T4")!, byProvider(day2.snapshots, "gcp", "T4")!];
    expect(s1).toMatchObject({ day: "2026-02-01", gpuHours: 1.999, costUsd: "0.69972", jobCount: 1 });
    expect(s2).toMatchObject({ day: "2026-02-02", gpuHours: 2.999, costUsd: "1.04958", jobCount: 1 });
    expect(sumMicros([s1.costUsd, s2.costUsd])).toBe(micros(job.actualCostUsd));
    expect(s1.gpuHours * 1000 + s2.gpuHours * 1000).toBe(job.usedGpuHours * 1000);

    // Written with the job's end: one usage item per day, findable by day, by owner (gsi1).
    const usage = (await readTable(w.ctx.core.db)).filter((i) => i.type === "UsageDay");
    expect(usage).toEqual([
      expect.objectContaining({
        pk: "USAGE#2026-02-01",
        sk: `JOB#${job.id}`,
        gsi1pk: `USAGE#OWNER#${owner.id}`,
        gsi1sk: `2026-02-01#${job.id}`,
        gpuMilli: 1999,
        costMicros: 699_720,
        provider: "gcp",
      }),
      expect.objectContaining({
        pk: "USAGE#2026-02-02",
        sk: `JOB#${job.id}`,
        gsi1pk: `USAGE#OWNER#${owner.id}`,
        gsi1sk: `2026-02-02#${job.id}`,
        gpuMilli: 2999,
        costMicros: 1_049_580,
      }),
    ]);
    expect(usage[0]).not.toHaveProperty("gsi3pk");
  });

  it("counts the hours a still-running job ran on the day, and replaces them once it has ended", async () => {
    const owner = await w.user();
    // 2 × A100 at aws (4.10) from 22:00; rolled up at 03:00 the next day: 2 h that day, 3 h the next so far.
    const [job] = await w.runJobs(owner, { start: "2026-02-10T22:00:00.000Z", job: { gpuType: "A100", gpuCount: 2, provider: "aws" } });
    w.set("2026-02-11T03:00:00.000Z");
    const day = await w.rollup("2026-02-10");
    expect(byProvider(day.snapshots, "aws", "A100")).toMatchObject({ gpuHours: 4, costUsd: "16.40", jobCount: 1 });
    const today = await w.rollup("2026-02-11");
    expect(byProvider(today.snapshots, "aws", "A100")).toMatchObject({ gpuHours: 6, costUsd: "24.60", jobCount: 1 });

    w.set("2026-02-11T04:30:00.000Z");
    const ended = await w.as(w.admin, "POST", `/api/v1/admin/jobs/${job.id}/complete`);
    expect(ended.body).toMatchObject({ status: "COMPLETED", usedGpuHours: 13, actualCostUsd: "53.30" });
    await w.ctx.engine.settled(job.id);
    const [again, next] = [await w.rollup("2026-02-10"), await w.rollup("2026-02-11")];
    expect(byProvider(again.snapshots, "aws", "A100")).toMatchObject({ gpuHours: 4, costUsd: "16.40", jobCount: 1 });
    expect(byProvider(next.snapshots, "aws", "A100")).toMatchObject({ gpuHours: 9, costUsd: "36.90", jobCount: 1 });
  });

  it("gives identical snapshots when a day is rolled up again, with no duplicates and nothing stale", async () => {
    const owner = await w.user();
    await w.runJobs(owner, {
      start: "2026-02-20T08:00:00.000Z",
      end: "2026-02-20T09:30:00.000Z",
      count: 2,
      job: { gpuType: "L4", provider: "aws" },
    });
    await w.runJobs(owner, {
      start: "2026-02-20T10:00:00.000Z",
      end: "2026-02-20T11:00:00.000Z",
      orgId: await w.org(owner),
      job: { gpuType: "H100", provider: "lambda" },
    });
    // A snapshot left by an earlier rollup that this one no longer produces.
    await w.ctx.core.db.doc.send(
      new PutCommand({
        TableName: w.ctx.core.db.table,
        Item: {
          pk: "COST#2026-02-20",
          sk: "PROVIDER#azure#GPU#V100",
          type: "CostSnapshot",
          day: "2026-02-20",
          provider: "azure",
          gpuType: "V100",
          costMicros: 1,
          gpuMilli: 1,
          jobCount: 1,
        },
      }),
    );

    const first = await w.rollup("2026-02-20");
    const stored = (await costItems(w.ctx.core, "2026-02-20")).filter((i) => i.sk !== "ROLLUP");
    const second = await w.rollup("2026-02-20");
    const storedAgain = (await costItems(w.ctx.core, "2026-02-20")).filter((i) => i.sk !== "ROLLUP");

    expect(second.snapshots).toEqual(first.snapshots);
    expect(storedAgain).toEqual(stored);
    expect(stored.map((i) => i.sk)).toEqual([
      `ORG#${stored.find((i) => i.type === "OrgCostSnapshot")!.orgId}`,
      "PROVIDER#aws#GPU#L4",
      "PROVIDER#lambda#GPU#H100",
    ]);
    expect(byProvider(first.snapshots, "aws", "L4")).toMatchObject({ gpuHours: 3, costUsd: "2.415", jobCount: 2 });
    expect(first.snapshots.find((s: Snapshot) => s.kind === "org")).toMatchObject({ gpuHours: 1, costUsd: "2.49", jobCount: 1 });
    const snapshots = await w.as(w.admin, "GET", "/api/v1/admin/costs/snapshots?date=2026-02-20");
    expect(snapshots.body.snapshots).toEqual(first.snapshots);
  });

  it("lets concurrent rollups of one day settle on the same snapshots", async () => {
    const owner = await w.user();
    await w.runJobs(owner, {
      start: "2026-02-22T05:00:00.000Z",
      end: "2026-02-22T07:00:00.000Z",
      count: 2,
      job: { gpuType: "A10G", provider: "lambda" },
    });
    const results = await Promise.all(Array.from({ length: 3 }, () => w.rollup("2026-02-22")));
    for (const result of results)
      expect(result.snapshots).toEqual([
        { day: "2026-02-22", kind: "providerGpu", provider: "lambda", gpuType: "A10G", costUsd: "3.00", gpuHours: 4, jobCount: 2 },
      ]);
    expect((await costItems(w.ctx.core, "2026-02-22")).map((i) => i.sk)).toEqual(["PROVIDER#lambda#GPU#A10G", "ROLLUP"]);
  });

  it("runs on schedule for the previous UTC day (the Lambda's work)", async () => {
    const owner = await w.user();
    await w.runJobs(owner, {
      start: "2026-02-25T01:00:00.000Z",
      end: "2026-02-25T02:00:00.000Z",
      job: { gpuType: "V100", provider: "aws" },
    });
    w.set("2026-02-26T00:05:00.000Z");
    expect(await runDailyCostRollup(w.ctx.core)).toMatchObject({ day: "2026-02-25", snapshots: 1 });
    expect((await costItems(w.ctx.core, "2026-02-25")).map((i) => i.sk)).toEqual(["PROVIDER#aws#GPU#V100", "ROLLUP"]);
    // `npm start` runs the same work on a local timer, at the same UTC time.
    const local = localSchedules(w.ctx.core).find((t) => t.name === "daily cost rollup")!;
    expect(local.nextRun(new Date("2026-02-26T00:05:00.000Z")).toISOString()).toBe("2026-02-27T00:05:00.000Z");
    expect(await local.run()).toMatchObject({ day: "2026-02-25", jobsRead: 1 });
    // The entry point infra names ("<file from the repo root>.<export>") exists and exports `handler`.
    const dot = DAILY_COST_ROLLUP_HANDLER.lastIndexOf(".");
    const module = await import(resolve(import.meta.dirname, "..", `${DAILY_COST_ROLLUP_HANDLER.slice(0, dot)}.ts`));
    expect(typeof module[DAILY_COST_ROLLUP_HANDLER.slice(dot + 1)]).toBe("function");
  });

  it("defaults to yesterday and refuses a date that is not a real day (nothing written)", async () => {
    w.set("2026-03-02T10:00:00.000Z");
    const res = await w.as(w.admin, "POST", "/api/v1/admin/costs/rollup");
    expect(res.status).toBe(200);
    expect(res.body.day).toBe("2026-03-01");
    const before = await readTable(w.ctx.core.db);
    // Not a real day, a day that has not begun (the clock says 2026-03-02), or before 2000.
    for (const date of [
      "2026-02-30",
      "2026-2-1",
      "yesterday",
      "2026-02-01T00:00:00Z",
      "0",
      "2026-03-03",
      "2030-01-01",
      "1999-12-31",
      "0000-01-01",
    ]) {
      const bad = await w.as(w.admin, "POST", `/api/v1/admin/costs/rollup?date=${encodeURIComponent(date)}`);
      expect(bad.status, date).toBe(400);
      expect(bad.body.error.code).toBe("VALIDATION_ERROR");
    }
    expect(await readTable(w.ctx.core.db)).toEqual(before);
  });
});

describe("GET /costs", () => {
  let w: Awaited<ReturnType<typeof world>>;
  let alice: Who;
  let bob: Who;
  let orgOwner: Who;
  let orgId: string;
  let jobs: { alice: any[]; bob: any[]; outside: any[] };
  const range = "from=2026-04-01&to=2026-04-30";

  beforeAll(async () => {
    w = await world();
    [alice, bob, orgOwner] = [await w.user(), await w.user(), await w.user()];
    // The org's owner runs no jobs of their own: what they see of it is their members' org jobs.
    orgId = await w.org(orgOwner, [alice, bob]);
    jobs = {
      alice: [
        ...(await w.runJobs(alice, {
          start: "2026-04-03T10:00:00.000Z",
          end: "2026-04-03T11:15:00.000Z",
          job: { gpuType: "A100", provider: "aws" },
        })),
        // Across midnight, in the org: split between the 4th and the 5th.
        ...(await w.runJobs(alice, {
          start: "2026-04-04T23:00:00.000Z",
          end: "2026-04-05T00:40:00.000Z",
          orgId,
          job: { gpuType: "T4", gpuCount: 3, provider: "gcp" },
        })),
        // No provider asked for: charged (and reported) at the cheapest, onprem.
        ...(await w.runJobs(alice, { start: "2026-04-05T12:00:00.000Z", end: "2026-04-05T12:07:00.000Z", job: { gpuType: "A100" } })),
        // A run that failed is paid for what it ran.
        ...(await w.runJobs(alice, {
          start: "2026-04-12T08:00:00.000Z",
          end: "2026-04-12T08:30:00.000Z",
          endWith: "fail",
          job: { gpuType: "V100", provider: "azure" },
        })),
      ],
      bob: await w.runJobs(bob, {
        start: "2026-04-05T13:00:00.000Z",
        end: "2026-04-05T15:20:00.000Z",
        orgId,
        count: 2,
        job: { gpuType: "H100", gpuCount: 2, provider: "coreweave" },
      }),
      outside: await w.runJobs(alice, {
        start: "2026-05-02T10:00:00.000Z",
        end: "2026-05-02T11:00:00.000Z",
        job: { gpuType: "A100", provider: "aws" },
      }),
    };
    // Still running: not in the report (its actual cost is not known yet).
    await w.runJobs(bob, { start: "2026-04-20T10:00:00.000Z", job: { gpuType: "L4", provider: "aws" } });
    w.set("2026-05-03T00:00:00.000Z");
  });
  afterAll(() => w.ctx.engine.shutdown());

  const costs = async (who: Who, query: string) => {
    const res = await w.as(who, "GET", `/api/v1/costs?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const totalOf = (list: any[]) => ({
    costUsd: sumMicros(list.map((j) => j.actualCostUsd)),
    gpuMilli: list.reduce((s, j) => s + Math.round(j.usedGpuHours * 1000), 0),
    jobCount: list.length,
  });
  /** Totals and items checked against the jobs `list`, for every groupBy. */
  async function expectReport(who: Who, list: any[]) {
    const expected = totalOf(list);
    for (const groupBy of ["provider", "gpuType", "org", "day"]) {
      const report = await costs(who, `${range}&groupBy=${groupBy}`);
      expect(report).toMatchObject({ from: "2026-04-01", to: "2026-04-30", groupBy });
      expect(micros(report.total.costUsd), groupBy).toBe(expected.costUsd);
      expect(Math.round(report.total.gpuHours * 1000), groupBy).toBe(expected.gpuMilli);
      expect(report.total.jobCount, groupBy).toBe(expected.jobCount);
      expect(sumMicros(report.items.map((i: any) => i.costUsd)), groupBy).toBe(expected.costUsd);
      if (groupBy !== "day")
        expect(
          report.items.reduce((s: number, i: any) => s + i.jobCount, 0),
          groupBy,
        ).toBe(expected.jobCount);
      // Each group equals the sum of its jobs' actual costs (day groups are checked below: a job can span two days).
      const field = { provider: "provider", gpuType: "gpuType", org: "orgId", day: undefined }[groupBy];
      if (!field) continue;
      for (const item of report.items) {
        const mine = list.filter(
          (j) => (j[field] ?? null) === item[field] || (field === "provider" && !j.provider && item.provider === "onprem"),
        );
        expect(micros(item.costUsd), `${groupBy} ${item[field]}`).toBe(totalOf(mine).costUsd);
        expect(item.jobCount, `${groupBy} ${item[field]}`).toBe(mine.length);
      }
    }
  }

  it("shows admins every job, totals equal to the sum of the jobs' actualCostUsd for every groupBy", async () => {
    expect(jobs.alice[3]).toMatchObject({ status: "FAILED", usedGpuHours: 0.5, actualCostUsd: "1.53" });
    await expectReport(w.admin, [...jobs.alice, ...jobs.bob]);
  });

  it("shows a user only their own jobs", async () => {
    await expectReport(alice, jobs.alice);
    await expectReport(bob, jobs.bob);
  });

  it("shows an org owner the jobs of the orgs they own", async () => {
    await expectReport(orgOwner, [jobs.alice[1], ...jobs.bob]);
  });

  it("splits a job across the days it ran, to the micro-dollar", async () => {
    const report = await costs(alice, `from=2026-04-04&to=2026-04-05&groupBy=day`);
    const [d4, d5] = report.items;
    // T4 × 3 at gcp for 100 min (1.666 h each): 60 min on the 4th, 40 on the 5th; plus the onprem job on the 5th.
    expect(d4).toMatchObject({ day: "2026-04-04", gpuHours: 2.999, costUsd: "1.04958", jobCount: 1 });
    expect(d5).toMatchObject({ day: "2026-04-05", jobCount: 2 });
    expect(micros(report.total.costUsd)).toBe(sumMicros([jobs.alice[1].actualCostUsd, jobs.alice[2].actualCostUsd]));
    // A range covering only the 4th shows only that day's share.
    const only4 = await costs(alice, `from=2026-04-04&to=2026-04-04&groupBy=provider`);
    expect(only4.items).toEqual([{ provider: "gcp", costUsd: "1.04958", gpuHours: 2.999, jobCount: 1 }]);
  });

  it("refuses bad input with 400", async () => {
    for (const query of [
      "",
      "from=2026-04-01",
      "to=2026-04-01",
      "from=2026-02-30&to=2026-03-01",
      "from=2026-4-1&to=2026-04-30",
      "from=2026-04-30&to=2026-04-01",
      "from=2025-01-01&to=2026-01-02",
      `${range}&groupBy=user`,
      `${range}&groupBy=`.replace("groupBy=", "groupBy=Provider"),
    ]) {
      const res = await w.as(alice, "GET", `/api/v1/costs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION_ERROR", message: expect.any(String) });
    }
    // 366 days is the longest range.
    expect((await w.as(alice, "GET", "/api/v1/costs?from=2024-01-01&to=2024-12-31")).status).toBe(200);
    expect((await call(w.ctx.app, "GET", `/api/v1/costs?${range}`)).status).toBe(401);
  });
});

describe("what the rollup reads", () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(() => w.ctx.engine.shutdown());

  /** `core` whose every DynamoDB call is recorded: each Query's partition and the items it read (ScannedCount). */
  function counted(core: Core) {
    const calls: { command: string; partition?: string; index?: string; scanned?: number }[] = [];
    const doc = new Proxy(core.db.doc, {
      get(target, prop, receiver) {
        if (prop !== "send") return Reflect.get(target, prop, receiver);
        return async (command: any, ...rest: any[]) => {
          const out: any = await (target.send as any)(command, ...rest);
          calls.push(
            command instanceof QueryCommand
              ? {
                  command: "Query",
                  partition: command.input.ExpressionAttributeValues?.[":pk"] as string,
                  index: command.input.IndexName,
                  scanned: out.ScannedCount,
                }
              : { command: command.constructor.name },
          );
          return out;
        };
      },
    });
    return { core: { ...core, db: { ...core.db, doc } } as Core, calls };
  }

  it("reads that day's jobs (N usage items + the R running jobs), not the ten times as many of other days", async () => {
    const owner = await w.user();
    const N = 3;
    await w.runJobs(owner, {
      start: "2026-06-09T10:00:00.000Z",
      end: "2026-06-09T12:00:00.000Z",
      count: 15,
      job: { gpuType: "T4", provider: "aws" },
    });
    await w.runJobs(owner, {
      start: "2026-06-10T09:00:00.000Z",
      end: "2026-06-10T10:00:00.000Z",
      count: N,
      job: { gpuType: "A100", provider: "aws" },
    });
    await w.runJobs(owner, {
      start: "2026-06-11T10:00:00.000Z",
      end: "2026-06-11T12:00:00.000Z",
      count: 15,
      job: { gpuType: "T4", provider: "aws" },
    });
    // One job still running since the 10th: R = 1.
    await w.runJobs(owner, { start: "2026-06-10T20:00:00.000Z", job: { gpuType: "L4", provider: "gcp" } });
    w.set("2026-06-12T00:05:00.000Z");

    const { core, calls } = counted(w.ctx.core);
    const result = await rollupDay(core, "2026-06-10");
    const queries = calls.filter((c) => c.command === "Query");
    const read = (prefix: string) => queries.filter((q) => q.partition?.startsWith(prefix)).reduce((s, q) => s + q.scanned!, 0);

    expect(calls.filter((c) => c.command !== "Query" && c.command !== "TransactWriteCommand")).toEqual([]);
    expect(read("USAGE#2026-06-10")).toBe(N);
    expect(read("STATUS#RUNNING#")).toBe(1);
    expect(queries.filter((q) => q.partition?.startsWith("STATUS#RUNNING#"))).toHaveLength(16);
    // The rest is the day's own snapshot partition (empty on a first rollup).
    expect(queries.map((q) => q.partition).filter((p) => !p!.startsWith("USAGE#") && !p!.startsWith("STATUS#"))).toEqual([
      "COST#2026-06-10",
    ]);
    expect(read("COST#")).toBe(0);
    expect(result).toMatchObject({ jobsRead: N + 1, usageItemsRead: N, runningJobsRead: 1 });
    expect(byProvider(result.snapshots, "aws", "A100")).toMatchObject({ jobCount: N, gpuHours: N });
    expect(byProvider(result.snapshots, "gcp", "L4")).toMatchObject({ jobCount: 1, gpuHours: 4 });
  });
});
