import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../packages/core/src/config/config";

describe("loadConfig", () => {
  it("applies defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      tableName: "gpuaas",
      defaultMonthlyGpuHours: 10,
      autoApproveMaxGpuHours: 0,
      simulation: { failureRate: 0.2 },
      jwt: { ttlSeconds: 900, issuer: "gpuaas", audience: "gpuaas-api" },
    });
  });

  it("fails loudly naming every bad value", () => {
    expect(() => loadConfig({ DEFAULT_MONTHLY_GPU_HOURS: "lots", SIMULATION_FAILURE_RATE: "2" })).toThrow(ConfigError);
    try {
      loadConfig({ DEFAULT_MONTHLY_GPU_HOURS: "lots", SIMULATION_FAILURE_RATE: "2" });
    } catch (error) {
      expect((error as Error).message).toMatch(/DEFAULT_MONTHLY_GPU_HOURS/);
      expect((error as Error).message).toMatch(/SIMULATION_FAILURE_RATE/);
    }
  });

  it("parses catalog overrides and rejects malformed ones", () => {
    expect(loadConfig({ GPU_CATALOG_OVERRIDES: '{"A100":{"aws":"3.90"}}' }).catalogOverrides).toEqual({
      A100: { aws: "3.90" },
    });
    expect(() => loadConfig({ GPU_CATALOG_OVERRIDES: "{not json" })).toThrow(/GPU_CATALOG_OVERRIDES/);
    expect(() => loadConfig({ GPU_CATALOG_OVERRIDES: '{"A100":{"aws":"cheap"}}' })).toThrow(ConfigError);
    // Bounded, so every cost stays an exact integer of micro-dollars.
    expect(loadConfig({ GPU_CATALOG_OVERRIDES: '{"H100":{"onprem":"100"},"T4":{"onprem":"0"}}' }).catalogOverrides).toEqual({
      H100: { onprem: "100" },
      T4: { onprem: "0" },
    });
    for (const price of ["100.000001", "1000", "99999999999999999999"])
      expect(() => loadConfig({ GPU_CATALOG_OVERRIDES: `{"A100":{"aws":"${price}"}}` }), price).toThrow(/GPU_CATALOG_OVERRIDES/);
  });
});
