/** /admin: operator views and actions. */
import { Hono } from "hono";
import { listAllJobs } from "@gpuaas/core/job/queries";
import type { AppEnv } from "../context";
import { requireAdmin, requireAuth } from "../middleware";
import { listQuery } from "./query";

export const adminRoutes = new Hono<AppEnv>()
  .use("/admin/*", requireAuth, requireAdmin)
  .get("/admin/jobs", async (c) => c.json(await listAllJobs(listQuery(c), c.get("core"), c.get("actor"))));
