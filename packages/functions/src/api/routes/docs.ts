/** GET /openapi.json and GET /docs: the API described (OpenAPI 3.1) and Swagger UI on it. Public. */
import { swaggerUI } from "@hono/swagger-ui";
import { Hono } from "hono";
import type { AppEnv } from "../context";

let document: Promise<object> | undefined;

/** Built once, on first request: its module (and zod's JSON Schema generator) is loaded only then,
 * so the cold start of every other route does not pay for it. */
function openApiDocument(): Promise<object> {
  document ??= import("../openapi/document").then(
    (m) => m.buildOpenApiDocument(),
    (error: unknown) => {
      document = undefined;
      throw error;
    },
  );
  return document;
}

export const docRoutes = new Hono<AppEnv>()
  .get("/openapi.json", async (c) => c.json(await openApiDocument()))
  .get("/docs", swaggerUI({ url: "/openapi.json", title: "GPU-as-a-Service API", persistAuthorization: true }));
