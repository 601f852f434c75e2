/** /auth and /me: accounts and tokens. */

import { login, me, register } from "@gpuaas/core/api";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, requireAuth } from "../middleware";

export const authRoutes = new Hono<AppEnv>()
  .post("/auth/register", async (c) => c.json(await register(c.get("core"), await jsonBody(c)), 201))
  .post("/auth/login", async (c) => c.json(await login(c.get("core"), await jsonBody(c))))
  .get("/me", requireAuth, async (c) => c.json(await me(c.get("core"), c.get("actor"))));
