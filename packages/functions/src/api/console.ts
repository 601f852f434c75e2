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

/** Only our own files and the libraries we serve; the API is same-origin, nothing may frame us. */
const PAGE_SECURITY = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

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
