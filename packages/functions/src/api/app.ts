/** The one Hono app: the same object runs on Lambda (lambda.ts) and on the local server. */

import type { Core } from "@gpuaas/core";
import { publicKeySet } from "@gpuaas/core/api";
import { pingTable } from "@gpuaas/core/aws";
import { type AssetSource, repositoryAssets } from "@gpuaas/web";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { consoleRoutes } from "./console";
import type { AppEnv } from "./context";
import { errorBody, handleError, unavailable } from "./errors";
import { requestContext } from "./middleware";
import { adminRoutes } from "./routes/admin";
import { authRoutes } from "./routes/auth";
import { catalogRoutes } from "./routes/catalog";
import { clusterRoutes } from "./routes/clusters";
import { costRoutes } from "./routes/costs";
import { docRoutes } from "./routes/docs";
import { jobRoutes } from "./routes/jobs";
import { orgRoutes } from "./routes/orgs";
import { quotaRoutes } from "./routes/quotas";

export const MAX_BODY_BYTES = 64 * 1024;

export interface AppOptions {
  /** Where the web console's files come from; the repository's by default. */
  consoleAssets?: AssetSource;
}

export function createApp(core: Core, options: AppOptions = {}) {
  const api = new Hono<AppEnv>()
    .route("/", authRoutes)
    .route("/", jobRoutes)
    .route("/", adminRoutes)
    .route("/", costRoutes)
    .route("/", quotaRoutes)
    .route("/", catalogRoutes)
    .route("/", orgRoutes)
    .route("/", clusterRoutes);

  return (
    new Hono<AppEnv>()
      .use(requestContext(core))
      .use(
        bodyLimit({
          maxSize: MAX_BODY_BYTES,
          onError: (c) => c.json(errorBody("PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`), 413),
        }),
      )
      // Public keys only: whoever holds a token can check it was ours (RFC 8414's jwks_uri).
      .get("/.well-known/jwks.json", (c) => {
        c.header("cache-control", "public, max-age=300");
        return c.json(publicKeySet(core.config.jwt));
      })
      .get("/health", async (c) => {
        try {
          await pingTable(core.db);
          return c.json({ status: "ok" });
        } catch (error) {
          c.get("core").log.warn("health check failed", { error });
          return unavailable(c, { status: "unavailable" });
        }
      })
      .route("/", docRoutes)
      .route("/api/v1", api)
      .route("/", consoleRoutes(options.consoleAssets ?? repositoryAssets()))
      .notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404))
      .onError(handleError)
  );
}

export type App = ReturnType<typeof createApp>;
