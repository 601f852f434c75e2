/** quota/rate.ts: the GCRA form a submission writes, or how long it waits. */
import { describe, expect, it } from "vitest";
import { MAX_CLOCK_SKEW_MS, rateForm } from "../packages/core/src/quota/rate";

const limit = { ratePerSecond: 2, burst: 5 }; // interval 500 ms, tolerance 2,000 ms
const now = 1_000_000;

describe("rateForm", () => {
  it("is idle for a new or refilled bucket, busy within the burst, refused past it", () => {
    expect(rateForm(limit, undefined, now)).toMatchObject({ form: "idle", intervalMs: 500, toleranceMs: 2000 });
    expect(rateForm(limit, now, now)).toMatchObject({ form: "idle" });
    expect(rateForm(limit, now + 1, now)).toMatchObject({ form: "busy" });
    expect(rateForm(limit, now + 2000, now)).toMatchObject({ form: "busy" });
    expect(rateForm(limit, now + 2001, now)).toEqual({ retryAfterSeconds: 1 });
    expect(rateForm(limit, now + 2000 + 3500, now)).toEqual({ retryAfterSeconds: 4 });
  });

  it("resets a time no write could have stored (a clock that went back) instead of refusing for ever", () => {
    expect(rateForm(limit, now + 2000 + 500 + MAX_CLOCK_SKEW_MS, now)).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect(rateForm(limit, now + 2000 + 500 + MAX_CLOCK_SKEW_MS + 1, now)).toMatchObject({ form: "idle" });
    expect(rateForm(limit, now + 86_400_000, now)).toMatchObject({ form: "idle" });
  });
});
