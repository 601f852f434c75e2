/** /jobs: submit, list, read, follow and cancel one's own jobs. */
import { Hono } from "hono";
import { cancelJob } from "@gpuaas/core/job/actions";
import { getJob, getJobEvents, listMyJobs } from "@gpuaas/core/job/queries";
import { submitJob } from "@gpuaas/core/job/submit";
import type { AppEnv } from "../context";
import { jsonBody, optionalJsonBody, requireAuth } from "../middleware";
import { listQuery } from "./query";

export const jobRoutes = new Hono<AppEnv>()
  .use("/jobs", requireAuth)
  .use("/jobs/*", requireAuth)
  .post("/jobs", async (c) => {
    const { job, replayed } = await submitJob(c.get("core"), c.get("actor"), await jsonBody(c), c.req.header("idempotency-key"));
    return c.json(job, replayed ? 200 : 201);
  })
  .get("/jobs", async (c) => c.json(await listMyJobs(listQuery(c), c.get("core"), c.get("actor"))))
  .get("/jobs/:id", async (c) => c.json(await getJob(c.get("core"), c.get("actor"), c.req.param("id"))))
  .get("/jobs/:id/events", async (c) => c.json(await getJobEvents(c.get("core"), c.get("actor"), c.req.param("id"))))
  .post("/jobs/:id/cancel", async (c) =>
    c.json(await cancelJob(c.get("core"), c.get("actor"), c.req.param("id"), await optionalJsonBody(c))),
  );
