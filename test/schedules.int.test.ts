/** The scheduled Lambdas as EventBridge Scheduler invokes them, against DynamoDB Local: linked
 * resources given the way SST gives them (SST_RESOURCE_* env), the entry point loaded by the path
 * infra names. */
import { resolve } from "node:path";
import { type Core, createCore, loadConfig } from "@gpuaas/core";
import { ensureTable } from "@gpuaas/core/aws";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { dayOf, previousDay } from "../packages/core/src/cost/usage";
import { newId } from "../packages/core/src/util/id";
import { DAILY_COST_ROLLUP_HANDLER } from "../packages/functions/src/handlers";
import { readTable } from "./support/audit";

const TABLE_NAME = `test-schedules-${newId().toLowerCase()}`;
const savedEnv = { ...process.env };
let core: Core;

beforeAll(async () => {
  process.env.SST_RESOURCE_App = JSON.stringify({ name: "gpuaas", stage: "test" });
  process.env.SST_RESOURCE_Table = JSON.stringify({ name: TABLE_NAME, type: "sst.aws.Dynamo" });
  process.env.DYNAMODB_ENDPOINT = inject("dynamoEndpoint");
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? "SILENT";
  delete process.env.TABLE_NAME;
  delete process.env.JWT_SIGNING_KEY;
  core = createCore(loadConfig({ TABLE_NAME, DYNAMODB_ENDPOINT: inject("dynamoEndpoint") }));
  await ensureTable(core.db.client, TABLE_NAME);
});

afterAll(() => {
  process.env = savedEnv;
});

/** Loads a Lambda entry point the way the runtime does: "<module path>.<export>" from the repo root. */
async function entryPoint(handlerPath: string) {
  const dot = handlerPath.lastIndexOf(".");
  const mod = await import(resolve(import.meta.dirname, "..", `${handlerPath.slice(0, dot)}.ts`));
  return mod[handlerPath.slice(dot + 1)] as (event: unknown, context?: unknown) => Promise<any>;
}

it("DailyCostRollup rolls up the previous UTC day on the linked table", async () => {
  const handler = await entryPoint(DAILY_COST_ROLLUP_HANDLER);
  const yesterday = previousDay(dayOf(Date.now()));
  // What EventBridge Scheduler sends (CronV2 passes no event of its own).
  const result = await handler({}, { awsRequestId: "schedule-test" });
  // Run right at midnight, "yesterday" may have moved on by one day.
  expect([yesterday, dayOf(Date.now() - 86_400_000)]).toContain(result.day);
  expect(result).toMatchObject({ jobsRead: 0, snapshots: 0 });
  expect((await readTable(core.db)).filter((i) => i.pk === `COST#${result.day}`).map((i) => i.sk)).toEqual(["ROLLUP"]);
});
