import { describe, expect, it } from "vitest";
import type { Db } from "../packages/core/src/db/client";
import { batchGetItems } from "../packages/core/src/db/read";
import { DependencyUnavailableError } from "../packages/core/src/errors";

/** A Db whose BatchGetItem answers the first `throttled` calls with every key unprocessed. */
function throttledDb(throttled: number) {
  let calls = 0;
  const send = async (command: { input: { RequestItems: Record<string, { Keys: Record<string, unknown>[] }> } }) => {
    const keys = command.input.RequestItems.t!.Keys;
    calls++;
    if (calls <= throttled) return { Responses: { t: [] }, UnprocessedKeys: { t: { Keys: keys } } };
    return { Responses: { t: keys.map((k) => ({ ...k, found: true })) } };
  };
  return { db: { doc: { send }, table: "t" } as unknown as Db, calls: () => calls };
}

describe("batchGetItems", () => {
  it("asks again for keys storage left unprocessed", async () => {
    const { db, calls } = throttledDb(2);
    expect(await batchGetItems(db, [{ pk: "a" }, { pk: "b" }])).toEqual([
      { pk: "a", found: true },
      { pk: "b", found: true },
    ]);
    expect(calls()).toBe(3);
  });

  it("is a 503 when keys stay unprocessed, never a silent 'missing'", async () => {
    const { db, calls } = throttledDb(Infinity);
    await expect(batchGetItems(db, [{ pk: "a" }])).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls()).toBe(5);
  });
});
