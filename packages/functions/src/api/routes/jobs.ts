/** /jobs: submit, list, read, follow and cancel one's own jobs. */

import { cancelJob, getJob, getJobEvents, listMyJobs, submitJob } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, optionalJsonBody, requireAuth, requireToken } from "../middleware";
import { listQuery } from "./query";

// Submitting and reading one job verify the token only; core checks the account with its own work
// and refuses a missing or disabled one first: getJob/getJobEvents read it in the same BatchGetItem
// as the job, submitJob checks it inside the submission transaction (or reads it when it must).
// They are declared before the `use` lines, so the full authentication below never runs for them.
export const jobRoutes = new Hono<AppEnv>()
  .post("/jobs", requireToken, async (c) => {
    const { job, replayed } = await submitJob(c.get("core"), c.get("actor"), await jsonBody(c), c.req.header("idempotency-key"));
    return c.json(job, replayed ? 200 : 201);
  })
  .get("/jobs/:id", requireToken, async (c) => c.json(await getJob(c.get("core"), c.get("actor"), c.req.param("id"))))
  .get("/jobs/:id/events", requireToken, async (c) => c.json(await getJobEvents(c.get("core"), c.get("actor"), c.req.param("id"))))
  .use("/jobs", requireAuth)
  .use("/jobs/*", requireAuth)
  .get("/jobs", async (c) => c.json(await listMyJobs(c.get("core"), c.get("actor"), listQuery(c))))
  .post("/jobs/:id/cancel", async (c) =>
    c.json(await cancelJob(c.get("core"), c.get("actor"), c.req.param("id"), await optionalJsonBody(c))),
  );
