import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ceilToMilliHours } from "../packages/core/src/util/hours";

describe("ceilToMilliHours", () => {
  it.each([
    [50 / 60, 834],
    [0.8333333333, 834],
    [1e-10, 1],
    [1.1, 1100],
    [0.333, 333],
    [720, 720_000],
    [0.0011, 2],
  ])("%d h → %i milli-hours", (hours, milli) => expect(ceilToMilliHours(hours)).toBe(milli));

  it("never rounds down, and rounds up by less than one milli-hour", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 720, noNaN: true }), (hours) => {
        const milli = ceilToMilliHours(hours);
        expect(Number.isInteger(milli)).toBe(true);
        expect(milli).toBeGreaterThanOrEqual(Math.max(1, hours * 1000 - 1e-6));
        expect(milli - hours * 1000).toBeLessThan(1);
      }),
    );
  });

  it("keeps every whole number of milli-hours as it is", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 720_000 }), (milli) => {
        expect(ceilToMilliHours(milli / 1000)).toBe(milli);
      }),
    );
  });
});
