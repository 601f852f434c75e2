import { describe, expect, it } from "vitest";
import { costMicros, formatUsd, usdToMicros } from "../packages/core/src/util/money";

describe("money", () => {
  it.each([
    ["3.06", 3_060_000],
    ["0.000125", 125],
    ["12", 12_000_000],
  ])("usdToMicros(%s) = %i", (usd, micros) => expect(usdToMicros(usd)).toBe(micros));

  it.each([
    [3_060_000, "3.06"],
    [125, "0.000125"],
    [12_000_000, "12.00"],
    [0, "0.00"],
    [1_234_500, "1.2345"],
    [-2_500_000, "-2.50"],
  ])("formatUsd(%i) = %s", (micros, usd) => expect(formatUsd(micros)).toBe(usd));

  it("rejects malformed prices and non-integer amounts", () => {
    expect(() => usdToMicros("1.2345678")).toThrow();
    expect(() => usdToMicros("-1")).toThrow();
    expect(() => formatUsd(0.5)).toThrow();
  });

  it("costs price × GPUs × milli-hours, rounded half-up to a micro-dollar", () => {
    expect(costMicros(6_880_000, 2, 1250)).toBe(17_200_000);
    expect(costMicros(1, 1, 500)).toBe(1); // 0.5 micro rounds up
    expect(costMicros(1, 1, 499)).toBe(0);
    // The largest job at the dearest price stays an exact integer.
    expect(Number.isSafeInteger(costMicros(100_000_000, 64, 720_000))).toBe(true);
  });

  it("ten 0.1 GPU-hour jobs cost exactly one 1 GPU-hour job", () => {
    const tenths = Array.from({ length: 10 }, () => costMicros(4_100_000, 1, 100)).reduce((a, b) => a + b, 0);
    expect(tenths).toBe(costMicros(4_100_000, 1, 1000));
  });
});
