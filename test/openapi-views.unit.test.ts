/** Core's views against the documented response schemas, at compile time: each view's type must be
 * assignable to its schema's output type, so a field whose type changes in core (or a schema that
 * drifts from its view) is a type error here. Extra fields are caught at run time instead
 * (test/openapi.int.test.ts validates real responses against closed schemas). */

import type { catalogView } from "@gpuaas/core";
import type { getCosts } from "@gpuaas/core/api";
import type { ExecutionView } from "@gpuaas/core/workflow";
import { expect, it } from "vitest";
import type * as z from "zod";
import type { toCluster } from "../packages/core/src/cluster/cluster";
import type { RollupResult } from "../packages/core/src/cost/rollup";
import type { Job } from "../packages/core/src/job/job";
import type { Waiting } from "../packages/core/src/job/views";
import type { toAlert, toOrg, toSpend } from "../packages/core/src/org/org";
import type { Quota } from "../packages/core/src/quota/quota";
import type { ResetResult } from "../packages/core/src/quota/reset";
import type { User } from "../packages/core/src/user/user";
import { responseSchemas } from "../packages/functions/src/api/openapi/responses";

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
