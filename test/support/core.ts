/** Test fixtures: a fresh table per test file on the shared DynamoDB Local, a core and an app on it. */
import { inject } from "vitest";
import { loadConfig, type CoreConfig } from "@gpuaas/core/config/config";
import { createCore, type Core } from "@gpuaas/core/core";
import { ensureTable } from "@gpuaas/core/db/table";
import { createApp } from "@gpuaas/functions/api/app";
import { newId } from "@gpuaas/core/util/id";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256!!";

export function testConfig(env: Record<string, string> = {}): CoreConfig {
  return loadConfig({
    TABLE_NAME: `test-${newId().toLowerCase()}`,
    DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
    JWT_SECRET: TEST_JWT_SECRET,
    SIMULATION_SECONDS_PER_HOUR: "0",
    ...env,
  });
}

/** A core on its own new table. `now` can be replaced to move the clock. */
export async function testCore(env: Record<string, string> = {}, overrides: Partial<Omit<Core, "config">> = {}) {
  const core = createCore(testConfig(env), overrides);
  await ensureTable(core.db.client, core.db.table);
  return core;
}

export async function testApp(env: Record<string, string> = {}, overrides: Partial<Omit<Core, "config">> = {}) {
  const core = await testCore(env, overrides);
  return { core, app: createApp(core) };
}
