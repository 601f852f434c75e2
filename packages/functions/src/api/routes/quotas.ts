/** /admin/users and /admin/quotas: users with their quotas, standing limits, the monthly reset. */

import { ValidationError } from "@gpuaas/core";
import { listUsers, runQuotaReset, setUserQuota, updateUser } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, optionalJsonBody, requireAdmin, requireAuth } from "../middleware";

export const quotaRoutes = new Hono<AppEnv>()
  .use("/admin/users", requireAuth, requireAdmin)
  .use("/admin/users/*", requireAuth, requireAdmin)
  .use("/admin/quotas/*", requireAuth, requireAdmin)
  .get("/admin/users", async (c) =>
    c.json(
      await listUsers(c.get("core"), c.get("actor"), {
        limit: c.req.query("limit") || undefined,
        cursor: c.req.query("cursor") || undefined,
      }),
    ),
  )
  .patch("/admin/users/:id", async (c) => c.json(await updateUser(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))))
  .put("/admin/users/:id/quota", async (c) =>
    c.json(await setUserQuota(c.get("core"), c.get("actor"), c.req.param("id"), await jsonBody(c))),
  )
  .post("/admin/quotas/reset", async (c) => {
    // No options: the reset always opens the current month.
    if ((await optionalJsonBody(c)) !== undefined) throw new ValidationError("This endpoint takes no body");
    return c.json(await runQuotaReset(c.get("core"), c.get("actor")));
  });
