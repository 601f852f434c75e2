/** GET /openapi.json and GET /docs: the API described (OpenAPI 3.1) and Swagger UI on it. Public. */

import { SWAGGER_UI_BASE_URL } from "@gpuaas/web";
import { swaggerUI } from "@hono/swagger-ui";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { buildOpenApiDocument } from "../openapi/document";

let document: object | undefined;

/** Built once, on the first request: the response schemas and the document are made only then, so
 * the cold start of every other route does not pay for them. (The module is imported statically: a
 * dynamic import makes esbuild wrap every module it shares with the app in a lazy initialiser,
 * which made the bundle 9 % larger and the cold start slower than building nothing.) */
const openApiDocument = () => (document ??= buildOpenApiDocument());

export const docRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument()))
  // Swagger UI's script and styles come from this app (the console's vendor files), so /docs works offline.
  .get(
    "/docs",
    swaggerUI({ url: "/openapi.json", title: "GPU-as-a-Service API", persistAuthorization: true, baseUrl: SWAGGER_UI_BASE_URL }),
  );
