/** GET /openapi.json and GET /docs: the API described (OpenAPI 3.1) and Swagger UI on it. Public.
 * /docs has the console's security headers (its one inline script allowed by its hash) and keeps
 * no token: Swagger UI's authorization lives only as long as the page (not in localStorage). */
import { createHash } from "node:crypto";

import { SWAGGER_UI_BASE_URL } from "@gpuaas/web";
import { swaggerUI } from "@hono/swagger-ui";
import { Hono } from "hono";
import { pageSecurity } from "../console";
import type { AppEnv } from "../context";
import { buildOpenApiDocument } from "../openapi/document";

let document: object | undefined;

/** Built once, on the first request: the response schemas and the document are made only then, so
 * the cold start of every other route does not pay for them. (The module is imported statically: a
 * dynamic import makes esbuild wrap every module it shares with the app in a lazy initialiser,
 * which made the bundle 9 % larger and the cold start slower than building nothing.) */
const openApiDocument = () => (document ??= buildOpenApiDocument());

/** Swagger UI's page, rendered once, with the CSP hashes of its inline scripts. Its script and
 * styles come from this app (the console's vendor files), so /docs works offline. */
let docsPage: Promise<{ html: string; headers: Record<string, string> }> | undefined;
async function renderDocsPage() {
  const ui = new Hono().get(
    "/docs",
    swaggerUI({ url: "/openapi.json", title: "GPU-as-a-Service API", persistAuthorization: false, baseUrl: SWAGGER_UI_BASE_URL }),
  );
  const html = await (await ui.request("/docs")).text();
  const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  const hashes = inline.map((script) => `sha256-${createHash("sha256").update(script).digest("base64")}`);
  return { html, headers: { ...pageSecurity(hashes), "cache-control": "no-cache" } };
}

export const docRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument()))
  .get("/docs", async (c) => {
    docsPage ??= renderDocsPage();
    const page = await docsPage;
    return c.html(page.html, 200, page.headers);
  });
