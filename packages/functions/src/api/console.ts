/** The web console: `GET /` is its page, `GET /console/*` its scripts, styles and libraries. */

import type { AssetSource } from "@gpuaas/web";
import { type Context, Hono } from "hono";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
};

/** The content security policy of our pages: only our own files and the libraries we serve (and
 * the inline scripts named by hash, for /docs); the API is same-origin, nothing may frame us. */
export const contentSecurityPolicy = (scriptHashes: string[] = []) =>
  `default-src 'self'; script-src 'self'${scriptHashes.map((h) => ` '${h}'`).join("")}; style-src 'self' 'unsafe-inline'; ` +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** The security headers of every page and file the app serves to browsers (the console, /docs). */
export const pageSecurity = (scriptHashes: string[] = []) => ({
  "content-security-policy": contentSecurityPolicy(scriptHashes),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

const PAGE_SECURITY = pageSecurity();

export function consoleRoutes(assets: AssetSource) {
  async function serve(c: Context<AppEnv>, name: string) {
    const file = await assets.read(name);
    if (!file) return c.json(errorBody("NOT_FOUND", `No console file ${name}`), 404);
    const extension = name.slice(name.lastIndexOf(".") + 1);
    // Libraries are pinned by the lockfile: a day of caching; our own files are revalidated each load.
    const cache = name.startsWith("vendor/") ? "public, max-age=86400" : "no-cache";
    return c.body(new Uint8Array(file), 200, {
      ...PAGE_SECURITY,
      "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream",
      "cache-control": cache,
    });
  }

  return new Hono<AppEnv>()
    .get("/", (c) => serve(c, "index.html"))
    .get("/console/*", (c) => serve(c, c.req.path.slice("/console/".length)));
}
