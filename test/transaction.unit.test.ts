/** Transactions from named parts: a cancellation is asked by part name, never by position. */

import { describe, expect, it } from "vitest";
import { type TransactItem, Transaction, TransactionCancelled } from "../packages/core/src/db/transact";

const item = (pk: string): TransactItem => ({
  ConditionCheck: { TableName: "t", Key: { pk, sk: "x" }, ConditionExpression: "attribute_exists(pk)" },
});
const ok = { code: "None" };
const failed = (pk: string) => ({ code: "ConditionalCheckFailed", item: { pk } });

describe("Transaction", () => {
  const tx = new Transaction()
    .add("quota", item("q"))
    .add("dependencies", item("d1"), item("d2"), item("d3"))
    .add("none")
    .add("account", item("a"));

  it("lays its parts out in order, empty parts included", () => {
    expect(tx.items.map((i) => i.ConditionCheck?.Key?.pk)).toEqual(["q", "d1", "d2", "d3", "a"]);
    expect(tx.part("account")).toEqual({ from: 4, count: 1 });
    expect(tx.part("none")).toEqual({ from: 4, count: 0 });
  });

  it("answers a cancellation by part: the first failed item of a part, and each item's", () => {
    const error = new TransactionCancelled([ok, ok, failed("d2"), ok, failed("a")], tx);
    expect(error.failed("quota")).toBeUndefined();
    expect(error.failed("dependencies")).toEqual(failed("d2"));
    expect(error.failedEach("dependencies")).toEqual([undefined, failed("d2"), undefined]);
    expect(error.failed("none")).toBeUndefined();
    expect(error.failed("account")?.item).toEqual({ pk: "a" });
  });

  it("refuses a part added twice and a name it does not have", () => {
    expect(() => new Transaction().add("quota", item("q")).add("quota", item("q2"))).toThrow(/added twice/);
    expect(() => new TransactionCancelled([ok], tx).failed("quotas")).toThrow(/No transaction part "quotas"/);
  });
});
