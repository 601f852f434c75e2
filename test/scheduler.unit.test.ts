/** The local scheduler: UTC due times, long waits in hops, a catch-up run at start, and stop(). */

import { createLogger } from "@gpuaas/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { dailyAt, startOfNextMonth, startScheduler } from "../packages/local/src/scheduler";

const log = createLogger("SILENT");

describe("due times", () => {
  it("finds 00:00 UTC on the 1st of the next month, across a year end", () => {
    expect(startOfNextMonth(new Date("2026-11-23T10:00:00Z")).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(startOfNextMonth(new Date("2026-12-01T00:00:00Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("finds the next hh:mm UTC strictly after a time", () => {
    const at0005 = dailyAt(0, 5);
    expect(at0005(new Date("2026-11-23T00:04:59Z")).toISOString()).toBe("2026-11-23T00:05:00.000Z");
    expect(at0005(new Date("2026-11-23T00:05:00Z")).toISOString()).toBe("2026-11-24T00:05:00.000Z");
    expect(at0005(new Date("2026-12-31T23:00:00Z")).toISOString()).toBe("2027-01-01T00:05:00.000Z");
  });
});

describe("startScheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-29T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("runs each task at its due time, including one months away, and again at the next", async () => {
    const runs: string[] = [];
    const scheduler = startScheduler({
      tasks: [{ name: "monthly", nextRun: startOfNextMonth, run: async () => runs.push(new Date().toISOString()) }],
      now: () => new Date(),
      log,
    });
    await vi.advanceTimersByTimeAsync(2 * 86_400_000 - 12 * 3_600_000 - 1);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual(["2026-12-01T00:00:00.000Z"]);
    // The next due time is a month out, past what one timer can wait (~24.8 days).
    await vi.advanceTimersByTimeAsync(31 * 86_400_000);
    expect(runs).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
    await scheduler.stop();
  });

  it("runs every task once at start when asked, and a failing task neither stops the others nor its next run", async () => {
    const runs: string[] = [];
    const scheduler = startScheduler({
      tasks: [
        { name: "daily", nextRun: dailyAt(0, 5), run: async () => runs.push(`daily ${new Date().toISOString()}`) },
        { name: "broken", nextRun: dailyAt(0, 5), run: async () => Promise.reject(new Error("boom")) },
      ],
      now: () => new Date(),
      log,
      runAtStart: true,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual(["daily 2026-11-29T12:00:00.000Z"]);
    await vi.advanceTimersByTimeAsync(12 * 3_600_000 + 5 * 60_000);
    expect(runs).toEqual(["daily 2026-11-29T12:00:00.000Z", "daily 2026-11-30T00:05:00.000Z"]);
    await scheduler.stop();
  });

  it("stop() cancels what is due later and waits for a run in progress", async () => {
    let finish!: () => void;
    const runs: string[] = [];
    const scheduler = startScheduler({
      tasks: [
        {
          name: "slow",
          nextRun: dailyAt(0, 5),
          run: () =>
            new Promise<void>((resolve) => {
              runs.push("started");
              finish = resolve;
            }),
        },
      ],
      now: () => new Date(),
      log,
      runAtStart: true,
    });
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(3 * 86_400_000);
    expect(runs).toEqual(["started"]);
  });
});
