import { describe, expect, it } from "vitest";
import { coalesced } from "../packages/core/src/util/coalesce";

/** A read whose calls are counted and that ends only when told to. */
function controlledRead() {
  const calls: { key: string; end: (value: number) => void; fail: (error: Error) => void }[] = [];
  const read = (key: string) => new Promise<number>((resolve, reject) => void calls.push({ key, end: resolve, fail: reject }));
  return { read, calls };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("coalesced", () => {
  it("gives callers that ask while a read runs the next read, one for all of them, begun after the running one ended", async () => {
    const { read, calls } = controlledRead();
    const get = coalesced(read);
    const first = get("V100");
    await tick();
    expect(calls).toHaveLength(1);
    const later = [get("V100"), get("V100"), get("V100")];
    await tick();
    expect(calls).toHaveLength(1); // not begun while the first runs
    calls[0]!.end(1);
    expect(await first).toBe(1);
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.end(2);
    expect(await Promise.all(later)).toEqual([2, 2, 2]);
  });

  it("reads different keys independently", async () => {
    const { read, calls } = controlledRead();
    const get = coalesced(read);
    const a = get("V100");
    const b = get("A100");
    await tick();
    expect(calls.map((c) => c.key)).toEqual(["V100", "A100"]);
    calls[1]!.end(7);
    calls[0]!.end(3);
    expect([await a, await b]).toEqual([3, 7]);
  });

  it("fails the callers of a failed read, and the next caller reads again", async () => {
    const { read, calls } = controlledRead();
    const get = coalesced(read);
    const failed = get("V100");
    await tick();
    calls[0]!.fail(new Error("DynamoDB is not answering"));
    await expect(failed).rejects.toThrow("not answering");
    const again = get("V100");
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.end(5);
    expect(await again).toBe(5);
  });
});
