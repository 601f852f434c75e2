/** /auth and /me: accounts and tokens. */

import { changePassword, login, logout, me, register } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, requireAuth } from "../middleware";

export const authRoutes = new Hono<AppEnv>()
  .post("/auth/register", async (c) => c.json(await register(c.get("core"), await jsonBody(c)), 201))
  .post("/auth/login", async (c) => c.json(await login(c.get("core"), await jsonBody(c))))
  .post("/auth/logout", requireAuth, async (c) => {
    await logout(c.get("core"), c.get("actor"));
    return c.body(null, 204);
  })
  .post("/auth/password", requireAuth, async (c) => c.json(await changePassword(c.get("core"), c.get("actor"), await jsonBody(c))))
  .get("/me", requireAuth, async (c) => c.json(await me(c.get("core"), c.get("actor"))));
