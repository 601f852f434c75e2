import { describe, expect, it } from "vitest";
import type { Core } from "../packages/core/src/core";
import type { Db } from "../packages/core/src/db/client";
import type { JobItem } from "../packages/core/src/job/job";
import { orgSpendSettlementItems } from "../packages/core/src/org/budget";
import { SetBudgetInput } from "../packages/core/src/org/org";
import { commitSpendItem } from "../packages/core/src/org/store";

const db = { table: "t" } as Db;

describe("SetBudgetInput", () => {
  it.each([
    ["1500", 1_500_000_000],
    ["1500.5", 1_500_500_000],
    ["1500.50", 1_500_500_000],
    [1500.5, 1_500_500_000],
    ["0.01", 10_000],
    ["10000000", 10_000_000_000_000],
  ])("%s → %i micro-dollars", (monthlyUsd, micros) => expect(SetBudgetInput.parse({ monthlyUsd }).monthlyUsd).toBe(micros));

  it.each([0, "0", "0.00", -1, "1.001", 0.1 + 0.2, "1e3", 1e21, "10000000.01", "", " 1", "1.", ".5", "+1", true, null])(
    "refuses %s",
    (monthlyUsd) => expect(SetBudgetInput.safeParse({ monthlyUsd }).success).toBe(false),
  );
});

describe("commitSpendItem", () => {
  const base = { orgId: "O", period: "2026-11", micros: 900_000, at: "now" };

  it("with a budget: the estimate must fit what is left, or the fresh month's budget", () => {
    const update = commitSpendItem(db, { ...base, budgetMicros: 4_500_000 }).Update!;
    expect(update.ConditionExpression).toBe("attribute_not_exists(#remaining) OR #remaining >= :micros");
    expect(update.UpdateExpression).toContain("#remaining = if_not_exists(#remaining, :opening) - :micros");
    expect(update.UpdateExpression).toContain("#budget = :opening");
    expect(update.ExpressionAttributeValues).toMatchObject({ ":opening": 4_500_000, ":micros": 900_000 });
  });

  it("an estimate larger than the whole budget never fits, even in a fresh month", () => {
    expect(commitSpendItem(db, { ...base, budgetMicros: 100 }).Update!.ConditionExpression).toBe("#remaining >= :micros");
  });

  it("without a budget: only counts, and fails if a budget appeared", () => {
    const update = commitSpendItem(db, { ...base, budgetMicros: undefined }).Update!;
    expect(update.ConditionExpression).toBe("attribute_not_exists(#budget)");
    expect(update.UpdateExpression).not.toContain("#budget =");
  });
});

describe("orgSpendSettlementItems", () => {
  const core = { db } as Core;
  const job = { orgId: "O", budgetPeriod: "2026-10", estimatedCostMicros: 1_800_000 } as JobItem;

  it("moves the spend from the estimate to the actual cost, in the job's budget month", () => {
    const [item] = orgSpendSettlementItems(core, job, { finishedAt: "x", actualCostMicros: 450_000 }, "x");
    expect(item!.Update!.Key).toEqual({ pk: "ORG#O", sk: "SPEND#2026-10" });
    expect(item!.Update!.ExpressionAttributeValues).toMatchObject({ ":delta": -1_350_000 });
  });

  it("gives the whole estimate back when the job never ran", () => {
    const [item] = orgSpendSettlementItems(core, job, { finishedAt: "x" }, "x");
    expect(item!.Update!.ExpressionAttributeValues).toMatchObject({ ":delta": -1_800_000 });
  });

  it("writes nothing for non-terminal transitions, personal jobs, or an exact estimate", () => {
    expect(orgSpendSettlementItems(core, job, { startedAt: "x" }, "x")).toEqual([]);
    expect(orgSpendSettlementItems(core, { ...job, orgId: undefined }, { finishedAt: "x" }, "x")).toEqual([]);
    expect(orgSpendSettlementItems(core, job, { finishedAt: "x", actualCostMicros: 1_800_000 }, "x")).toEqual([]);
  });
});
