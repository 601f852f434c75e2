/** Test fixtures: a fresh table per test file on the shared DynamoDB Local, a core and an app on it,
 * with job lifecycles run by the local workflow engine (the same one `npm start` uses). */

import { type Core, type CoreConfig, createCore, generateSigningKey, loadConfig } from "@gpuaas/core";
import { ensureTable } from "@gpuaas/core/aws";
import { createApp } from "@gpuaas/functions";
import { inject } from "vitest";
import { newId } from "../../packages/core/src/util/id";
import { type LocalReactor, startReactor } from "../../packages/local/src/reactor";
import { createLocalWorkflowEngine, type LocalWorkflowEngine } from "../../packages/local/src/workflow-engine";

import { reactors } from "./reactors";

/** The local stack's reactions (the table's stream → core's reactions) on `core`'s table, as npm start runs them. */
export async function withReactions(core: Core): Promise<LocalReactor> {
  const reactor = await startReactor(core, core.config.dynamoEndpoint ?? inject("dynamoEndpoint"), { pollMs: 100 });
  reactors.add(reactor);
  return reactor;
}

/** Fixture options: `reactions: false` leaves the table's changes without reactions (a test of the reconciler's repairs). */
export interface FixtureOptions {
  reactions?: boolean;
}

/** The tests' API signing key (ES256), one per test process. */
export const TEST_SIGNING_KEY = generateSigningKey("test-key");

export function testConfig(env: Record<string, string> = {}): CoreConfig {
  return loadConfig({
    TABLE_NAME: `test-${newId().toLowerCase()}`,
    DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
    JWT_SIGNING_KEY: JSON.stringify(TEST_SIGNING_KEY),
    // Password hashes at a low cost (2^12) keep the many sign-ups fast; test/password.unit.test.ts
    // covers the default cost (2^17) and the rehash on login.
    PASSWORD_HASH_COST: "12",
    // Simulated GPU-hours take no time unless a test asks for some.
    SIMULATION_SECONDS_PER_HOUR: "0",
    // Tests provoke failures on purpose; set LOG_LEVEL to see the lines.
    LOG_LEVEL: process.env.LOG_LEVEL ?? "SILENT",
    ...env,
  });
}

/** A core on `config` whose workflow is a fresh local engine (unless `overrides.workflow` is given). */
export function engineCore(config: CoreConfig, overrides: Partial<Omit<Core, "config">> = {}) {
  let core: Core | undefined;
  const engine = createLocalWorkflowEngine({ core: () => core!, retryIntervalMs: 5 });
  core = createCore(config, { workflow: engine, ...overrides });
  return { core, engine };
}

/** A core on its own new table, with the local reactions. `now` can be replaced to move the clock. */
export async function testCore(
  env: Record<string, string> = {},
  overrides: Partial<Omit<Core, "config">> = {},
  options: FixtureOptions = {},
) {
  const { core } = engineCore(testConfig(env), overrides);
  await ensureTable(core.db.client, core.db.table);
  if (options.reactions !== false) await withReactions(core);
  return core;
}

export async function testApp(
  env: Record<string, string> = {},
  overrides: Partial<Omit<Core, "config">> = {},
  options: FixtureOptions = {},
) {
  const { core, engine } = engineCore(testConfig(env), overrides);
  await ensureTable(core.db.client, core.db.table);
  const reactor = options.reactions !== false ? await withReactions(core) : undefined;
  /** Settles once everything committed so far has had its reactions (admission, cascades, alerts). */
  const settle = () => reactor?.settled() ?? Promise.resolve();
  return { core, app: createApp(core), engine: engine as LocalWorkflowEngine, settle, reactor };
}
