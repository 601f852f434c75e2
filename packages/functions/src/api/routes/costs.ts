/** /costs: cost reports over days; /admin/costs: the daily rollup on demand and its snapshots. */

import { getCostSnapshots, getCosts, runRollup } from "@gpuaas/core/api";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { requireAdmin, requireAuth } from "../middleware";

/** The named query parameters; empty values count as absent, others are ignored. */
const pick = (c: { req: { query: (name: string) => string | undefined } }, names: string[]) =>
  Object.fromEntries(names.flatMap((name) => (c.req.query(name) ? [[name, c.req.query(name)]] : [])));

/** Authenticates unless an earlier middleware (the /admin/* guard of admin.ts) already did. */
const authOnce = createMiddleware<AppEnv>(async (c, next) => (c.get("actor") ? next() : requireAuth(c, next)));

export const costRoutes = new Hono<AppEnv>()
  .use("/costs", authOnce)
  .use("/admin/costs/*", authOnce, requireAdmin)
  .get("/costs", async (c) => c.json(await getCosts(c.get("core"), c.get("actor"), pick(c, ["from", "to", "groupBy"]))))
  .post("/admin/costs/rollup", async (c) => c.json(await runRollup(c.get("core"), c.get("actor"), pick(c, ["date"]))))
  .get("/admin/costs/snapshots", async (c) => c.json(await getCostSnapshots(c.get("core"), c.get("actor"), pick(c, ["date"]))));
