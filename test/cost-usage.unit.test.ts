import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCatalog } from "../packages/core/src/catalog/catalog";
import { accrualWindow, allocate, daysOfWindow, providerOf } from "../packages/core/src/cost/usage";

const at = (iso: string) => Date.parse(iso);

describe("allocate (largest remainder)", () => {
  it.each([
    [10, [1, 1, 1], [4, 3, 3]],
    [2, [1, 1, 1], [1, 1, 0]],
    [100, [1, 2], [33, 67]],
    [4_100_000, [3_600_000, 3_600_000], [2_050_000, 2_050_000]],
    [7, [0, 5, 0], [0, 7, 0]],
    [0, [3, 4], [0, 0]],
  ])("%i over %j → %j", (total, weights, shares) => expect(allocate(total, weights)).toEqual(shares));

  it("gives integer shares that sum exactly to the total, each within 1 of its exact quota", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5e12 }),
        fc.array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 1, maxLength: 40 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const shares = allocate(total, weights);
          const sum = weights.reduce((s, w) => s + w, 0);
          expect(shares.reduce((s, x) => s + x, 0)).toBe(total);
          shares.forEach((share, i) => {
            expect(Number.isInteger(share)).toBe(true);
            expect(Math.abs(share - (total * weights[i]!) / sum)).toBeLessThan(1 + 1e-6);
          });
        },
      ),
    );
  });
});

describe("daysOfWindow", () => {
  it("splits a run across midnight by the time in each day", () => {
    expect(daysOfWindow([at("2026-03-01T23:00:00Z"), at("2026-03-02T01:00:00Z")])).toEqual([
      { day: "2026-03-01", ms: 3_600_000 },
      { day: "2026-03-02", ms: 3_600_000 },
    ]);
  });
  it("puts an instantaneous run on its day", () => {
    expect(daysOfWindow([at("2026-03-01T12:00:00Z"), at("2026-03-01T12:00:00Z")])).toEqual([{ day: "2026-03-01", ms: 1 }]);
  });
  it("folds the days past the cap into the last item, keeping the total time", () => {
    const window: [number, number] = [at("2026-01-01T00:00:00Z"), at("2026-03-01T00:00:00Z")];
    const days = daysOfWindow(window, 10);
    expect(days).toHaveLength(10);
    expect(days.at(-1)!.day).toBe("2026-02-28");
    expect(days.reduce((s, d) => s + d.ms, 0)).toBe(window[1] - window[0]);
  });
});

describe("accrualWindow", () => {
  it("ends when the run ended or reached its estimate, whichever came first", () => {
    const start = at("2026-03-01T23:00:00Z");
    expect(accrualWindow(start, start + 7_200_000, 1000, 3600)).toEqual([start, start + 3_600_000]);
    expect(accrualWindow(start, start + 1_800_000, 1000, 3600)).toEqual([start, start + 1_800_000]);
    expect(accrualWindow(start, start + 5, 1000, 0)).toEqual([start, start]);
  });
});

describe("providerOf", () => {
  const catalog = createCatalog();
  it("is the job's provider, else the one whose price the job carries, else the cheapest", () => {
    expect(providerOf(catalog, { provider: "gcp", gpuType: "A100", pricePerGpuHourMicros: 1 })).toBe("gcp");
    expect(providerOf(catalog, { gpuType: "A100", pricePerGpuHourMicros: 3_400_000 })).toBe("azure");
    expect(providerOf(catalog, { gpuType: "A100", pricePerGpuHourMicros: 42 })).toBe("onprem");
  });
});
