/** /catalog: GPU types, providers and prices. Public. */

import { catalogView } from "@gpuaas/core";
import { Hono } from "hono";
import type { AppEnv } from "../context";

export const catalogRoutes = new Hono<AppEnv>().get("/catalog/gpus", (c) => c.json(catalogView(c.get("core").catalog)));
