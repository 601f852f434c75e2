import { describe, expect, it } from "vitest";
import { loadConfig } from "../packages/core/src/config/config";
import { createCore } from "../packages/core/src/core";
import { autoApproves } from "../packages/core/src/job/approval-policy";
import type { JobItem } from "../packages/core/src/job/job";
import { describeStepError, outcomeDraw, remainingRuntimeSeconds } from "../packages/core/src/job/lifecycle";
import { runMilliHours } from "../packages/core/src/job/transitions";
import { newId } from "../packages/core/src/util/id";
import { noWorkflow } from "../packages/core/src/workflow/port";

const at = new Date("2026-11-02T10:00:00.000Z");
const coreWith = (env: Record<string, string> = {}) =>
  createCore(loadConfig({ ...env }), { now: () => at, workflow: noWorkflow("unit test") });

describe("simulated outcome", () => {
  it("is reproducible per job id and fails at about the configured rate", () => {
    const ids = Array.from({ length: 4000 }, () => newId());
    expect(ids.map(outcomeDraw)).toEqual(ids.map(outcomeDraw));
    const failures = ids.filter((id) => outcomeDraw(id) < 0.2).length / ids.length;
    expect(failures).toBeGreaterThan(0.17);
    expect(failures).toBeLessThan(0.23);
    for (const id of ids.slice(0, 50)) expect(outcomeDraw(id)).toBeGreaterThanOrEqual(0);
  });
});

describe("simulated runtime", () => {
  const job = (startedAt?: string) => ({ estimatedHours: 1.5, gpuCount: 2, startedAt }) as JobItem;

  it("waits estimatedHours × SIMULATION_SECONDS_PER_HOUR, minus what already ran, in whole seconds", () => {
    const core = coreWith({ SIMULATION_SECONDS_PER_HOUR: "10" });
    expect(remainingRuntimeSeconds(core, job(at.toISOString()))).toBe(15);
    expect(remainingRuntimeSeconds(core, job("2026-11-02T09:59:50.500Z"))).toBe(6); // 5.5 s left → 6
    expect(remainingRuntimeSeconds(core, job("2026-11-02T09:00:00.000Z"))).toBe(0);
    expect(remainingRuntimeSeconds(coreWith({ SIMULATION_SECONDS_PER_HOUR: "0" }), job(at.toISOString()))).toBe(0);
  });

  it("charges a job ended early for the simulated hours it ran, never more than its estimate", () => {
    const core = coreWith({ SIMULATION_SECONDS_PER_HOUR: "10" });
    const started = job("2026-11-02T10:00:00.000Z");
    expect(runMilliHours(core, started, "2026-11-02T10:00:05.000Z", "elapsed")).toBe(500);
    expect(runMilliHours(core, started, "2026-11-02T11:00:00.000Z", "elapsed")).toBe(1500);
    expect(runMilliHours(core, started, "2026-11-02T10:00:05.000Z", "full")).toBe(1500);
    expect(runMilliHours(coreWith({ SIMULATION_SECONDS_PER_HOUR: "0" }), started, "2026-11-02T10:00:05.000Z", "elapsed")).toBe(1500);
  });
});

describe("auto-approve policy", () => {
  it("is off by default, never approves sensitive jobs, and caps GPU-hours (gpuCount × hours)", () => {
    expect(autoApproves(coreWith(), { sensitive: false, reservedMilli: 1 })).toBe(false);
    const core = coreWith({ AUTO_APPROVE_MAX_GPU_HOURS: "4" });
    expect(autoApproves(core, { sensitive: false, reservedMilli: 4000 })).toBe(true);
    expect(autoApproves(core, { sensitive: false, reservedMilli: 4001 })).toBe(false);
    expect(autoApproves(core, { sensitive: true, reservedMilli: 1 })).toBe(false);
  });
});

describe("describeStepError", () => {
  it("keeps the type and message of an AWS Lambda error and drops its stack trace", () => {
    const cause = JSON.stringify({
      errorType: "TypeError",
      errorMessage: "simulator crashed",
      trace: ["TypeError: simulator crashed", "    at step (/var/task/index.mjs:1:2)"],
    });
    expect(describeStepError({ Error: "TypeError", Cause: cause })).toBe("TypeError: simulator crashed");
  });

  it("takes a plain Cause (the local interpreter's form) as the message", () => {
    expect(describeStepError({ Error: "States.TaskFailed", Cause: "boom" })).toBe("States.TaskFailed: boom");
    expect(describeStepError({ Error: "States.Timeout" })).toBe("States.Timeout");
    expect(describeStepError(undefined)).toBe("Error");
  });
});
