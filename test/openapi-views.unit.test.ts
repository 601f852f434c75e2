/** Core's views against the documented response schemas, at compile time: each view's type must be
 * assignable to its schema's output type, so a field whose type changes in core (or a schema that
 * drifts from its view) is a type error here. Extra fields are caught at run time instead
 * (test/openapi.int.test.ts validates real responses against closed schemas). */

import type { catalogView } from "@gpuaas/core/catalog/catalog";
import type { toCluster } from "@gpuaas/core/cluster/cluster";
import type { getCosts } from "@gpuaas/core/cost/report";
import type { RollupResult } from "@gpuaas/core/cost/rollup";
import type { Job } from "@gpuaas/core/job/job";
import type { Waiting } from "@gpuaas/core/job/views";
import type { toAlert, toOrg, toSpend } from "@gpuaas/core/org/org";
import type { Quota } from "@gpuaas/core/quota/quota";
import type { ResetResult } from "@gpuaas/core/quota/reset";
import type { User } from "@gpuaas/core/user/user";
import type { ExecutionView } from "@gpuaas/core/workflow/port";
import { responseSchemas } from "@gpuaas/functions/api/openapi/responses";
import { expect, it } from "vitest";
import type * as z from "zod";

type Documented<K extends keyof ReturnType<typeof responseSchemas>> = z.output<ReturnType<typeof responseSchemas>[K]>;
/** Compiles only when `View` is assignable to `Schema`. */
const fits = <_View extends Schema, Schema>() => true;

it("core's views fit the documented response schemas", () => {
  expect([
    fits<User, Documented<"User">>(),
    fits<Quota, Documented<"Quota">>(),
    fits<Job & { waiting?: Waiting }, Documented<"Job">>(),
    fits<Waiting, Documented<"Waiting">>(),
    fits<{ jobId: string; execution: ExecutionView | null }, Documented<"JobWorkflow">>(),
    fits<ReturnType<typeof toOrg>, Documented<"Org">>(),
    fits<ReturnType<typeof toSpend>, Documented<"OrgSpend">>(),
    fits<{ items: ReturnType<typeof toAlert>[] }, Documented<"OrgAlerts">>(),
    fits<Awaited<ReturnType<typeof getCosts>>, Documented<"CostReport">>(),
    fits<RollupResult, Documented<"Rollup">>(),
    fits<ResetResult, Documented<"QuotaReset">>(),
    fits<ReturnType<typeof toCluster>, Documented<"Cluster">>(),
    fits<ReturnType<typeof catalogView>, Documented<"Catalog">>(),
  ]).not.toContain(false);
  expect(Object.keys(responseSchemas())).toContain("Job");
});
