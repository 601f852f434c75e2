/** /admin: operator views and actions. */

import { approveJob, completeJob, failJob, getJobWorkflow, listAllJobs, listAudit, rejectJob, startJob } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, optionalJsonBody, requireAdmin, requireAuth } from "../middleware";
import { listQuery } from "./query";

export const adminRoutes = new Hono<AppEnv>()
  .use("/admin/*", requireAuth, requireAdmin)
  .get("/admin/audit", async (c) =>
    c.json(
      await listAudit(c.get("core"), c.get("actor"), {
        limit: c.req.query("limit") || undefined,
        cursor: c.req.query("cursor") || undefined,
      }),
    ),
  )
  .get("/admin/jobs", async (c) => c.json(await listAllJobs(c.get("core"), c.get("actor"), listQuery(c))))
  .get("/admin/jobs/:id/workflow", async (c) => c.json(await getJobWorkflow(c.get("core"), c.get("actor"), c.req.param("id"))))
  .post("/admin/jobs/:id/approve", async (c) =>
    c.json(await approveJob(c.get("core"), c.get("actor"), c.req.param("id"), await optionalJsonBody(c))),
  )
  .post("/admin/jobs/:id/reject", async (c) => c.json(await rejectJob(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))))
  .post("/admin/jobs/:id/start", async (c) =>
    c.json(await startJob(c.get("core"), c.get("actor"), c.req.param("id"), await optionalJsonBody(c))),
  )
  .post("/admin/jobs/:id/complete", async (c) =>
    c.json(await completeJob(c.get("core"), c.get("actor"), c.req.param("id"), await optionalJsonBody(c))),
  )
  .post("/admin/jobs/:id/fail", async (c) => c.json(await failJob(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))));
