/** /orgs: teams (create, join, rotate the invite code, members) and their monthly budget and alerts. */

import {
  createOrg,
  joinOrg,
  leaveOrg,
  listMyOrgs,
  listOrgAlerts,
  listOrgJobs,
  listOrgMembers,
  removeMember,
  rotateInviteCode,
  setOrgBudget,
} from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, requireAuth } from "../middleware";
import { listQuery } from "./query";

export const orgRoutes = new Hono<AppEnv>()
  .use("/orgs", requireAuth)
  .use("/orgs/*", requireAuth)
  .post("/orgs", async (c) => c.json(await createOrg(c.get("core"), c.get("actor"), await jsonBody(c)), 201))
  .get("/orgs", async (c) => c.json(await listMyOrgs(c.get("core"), c.get("actor"))))
  .post("/orgs/join", async (c) => c.json(await joinOrg(c.get("core"), c.get("actor"), await jsonBody(c))))
  .get("/orgs/:id/members", async (c) => c.json(await listOrgMembers(c.get("core"), c.get("actor"), c.req.param("id"))))
  .delete("/orgs/:id/members/:userId", async (c) => {
    await removeMember(c.get("core"), c.get("actor"), c.req.param("id"), c.req.param("userId"));
    return c.body(null, 204);
  })
  .post("/orgs/:id/leave", async (c) => {
    await leaveOrg(c.get("core"), c.get("actor"), c.req.param("id"));
    return c.body(null, 204);
  })
  .post("/orgs/:id/invite-code", async (c) => c.json(await rotateInviteCode(c.get("core"), c.get("actor"), c.req.param("id"))))
  .put("/orgs/:id/budget", async (c) => c.json(await setOrgBudget(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))))
  .get("/orgs/:id/alerts", async (c) => c.json(await listOrgAlerts(c.get("core"), c.get("actor"), c.req.param("id"))))
  .get("/orgs/:id/jobs", async (c) => {
    const { limit, cursor } = listQuery(c);
    return c.json(await listOrgJobs(c.get("core"), c.get("actor"), c.req.param("id"), { limit, cursor }));
  });
