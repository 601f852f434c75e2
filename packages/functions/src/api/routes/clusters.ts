/** /clusters: capacity pools (shared, or private to an org): create, list, read, resize and drain. */

import { clusterQueue, createCluster, createOrgCluster, getCluster, listClusters, updateCluster } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, requireAdmin, requireAuth } from "../middleware";

export const clusterRoutes = new Hono<AppEnv>()
  .use("/admin/clusters", requireAuth, requireAdmin)
  .use("/clusters", requireAuth)
  .use("/clusters/*", requireAuth)
  .use("/orgs/:id/clusters", requireAuth)
  .post("/admin/clusters", async (c) => c.json(await createCluster(c.get("core"), c.get("actor"), await jsonBody(c)), 201))
  .post("/orgs/:id/clusters", async (c) =>
    c.json(await createOrgCluster(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c)), 201),
  )
  .get("/clusters", async (c) => c.json(await listClusters(c.get("core"), c.get("actor"))))
  .get("/clusters/:id/queue", async (c) => c.json(await clusterQueue(c.get("core"), c.get("actor"), c.req.param("id"))))
  .get("/clusters/:id", async (c) => c.json(await getCluster(c.get("core"), c.get("actor"), c.req.param("id"))))
  .patch("/clusters/:id", async (c) => c.json(await updateCluster(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))));
