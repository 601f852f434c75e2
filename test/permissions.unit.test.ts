/** Least privilege on the table (issue 20, docs/aws.md "Least privilege"): each function's DynamoDB
 * grant (infra/permissions.ts) is exactly the set of DynamoDB calls its handler's code can make,
 * read from the code itself (test/support/dynamodb-calls.ts); no grant is `dynamodb:*` or table
 * administration; linking the table grants nothing; and every function linked to the table in
 * infra/ gets its own grant. */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TASK_KEYS } from "@gpuaas/core/workflow";
import { describe, expect, it } from "vitest";
import { TABLE_ACTIONS, type TableUser } from "../infra/permissions";
import {
  API_HANDLER,
  DAILY_COST_ROLLUP_HANDLER,
  QUOTA_RESET_HANDLER,
  REACTIONS_HANDLER,
  RECONCILER_HANDLER,
  WORKFLOW_TASK_HANDLERS,
} from "../packages/functions/src/handlers";
import { dynamodbActionsOf } from "./support/dynamodb-calls";

const INFRA = resolve(import.meta.dirname, "../infra");
const HANDLERS: Record<TableUser, string> = {
  Api: API_HANDLER,
  ReactionsConsumer: REACTIONS_HANDLER,
  DailyCostRollup: DAILY_COST_ROLLUP_HANDLER,
  MonthlyQuotaReset: QUOTA_RESET_HANDLER,
  Reconciler: RECONCILER_HANDLER,
  ...WORKFLOW_TASK_HANDLERS,
};
const file = (handler: string) => `${handler.replace(/\.handler$/, "")}.ts`;
const infraSources = readdirSync(INFRA)
  .filter((name) => name.endsWith(".ts"))
  .map((name) => ({ name, source: readFileSync(join(INFRA, name), "utf8") }));

describe("the table's grants", () => {
  it.each(Object.keys(HANDLERS) as TableUser[])("%s is granted exactly the DynamoDB calls its code makes", (user) => {
    expect([...TABLE_ACTIONS[user]].sort()).toEqual(dynamodbActionsOf(file(HANDLERS[user])));
  });

  it("grants only item-level actions: no wildcard, no table administration, no Scan", () => {
    const all = new Set(Object.values(TABLE_ACTIONS).flat());
    for (const action of all)
      expect(action).toMatch(/^(BatchGetItem|ConditionCheckItem|DeleteItem|GetItem|PutItem|Query|TransactWriteItems|UpdateItem)$/);
  });

  it("linking the table grants nothing (SST's own link would grant dynamodb:*)", () => {
    const storage = infraSources.find((s) => s.name === "storage.ts")!.source;
    const wrap = /sst\.Linkable\.wrap\(sst\.aws\.Dynamo,[^;]*\);/s.exec(storage)?.[0];
    expect(wrap).toBeDefined();
    expect(wrap).not.toMatch(/include|permission/);
  });

  it("every function linked to the table gets its own grant, and every grant belongs to one", () => {
    const linked = infraSources.flatMap((s) => s.source.match(/link: \[table\b/g) ?? []).length;
    const granted = infraSources.flatMap(({ source }) => [...source.matchAll(/permissions: \[tableAccess\(("(\w+)"|key)\)\]/g)]);
    expect(granted).toHaveLength(linked);
    const named = granted.flatMap((m) => (m[2] ? [m[2]] : TASK_KEYS));
    expect(named.sort()).toEqual(Object.keys(TABLE_ACTIONS).sort());
  });

  it("the code analysis sees a call where there is one (it would catch a new command)", () => {
    // Modules whose calls are known: the transaction helper, and the table's setup (local only).
    expect(dynamodbActionsOf("packages/core/src/db/transact.ts")).toEqual(
      ["ConditionCheckItem", "DeleteItem", "PutItem", "TransactWriteItems", "UpdateItem"].sort(),
    );
    expect(dynamodbActionsOf("packages/core/src/db/table.ts")).toContain("CreateTable");
  });
});
