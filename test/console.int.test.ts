/** The web console as the app serves it: its page, every module the page loads (followed through
 * their imports), the libraries from node_modules, and nothing outside the console's files. */

import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "@gpuaas/functions";
import { directoryAssets, LAMBDA_COPY_FILES, VENDOR_FILES } from "@gpuaas/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "./support/core";
import { REPO_ROOT } from "./support/local-stack";

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  ctx = await testApp();
});
afterAll(() => ctx.engine.shutdown());

const get = (path: string, app = ctx.app) => app.request(path);

/** Every /console/ URL the page loads: its <script>/<link> tags, then each module's imports, transitively. */
async function consoleFiles(app = ctx.app): Promise<Map<string, Response>> {
  const page = await (await get("/", app)).text();
  const seen = new Map<string, Response>();
  const queue = [...page.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
  while (queue.length) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    const res = await get(url, app);
    seen.set(url, res.clone());
    if (url.endsWith(".js") && !url.includes("/vendor/")) {
      const source = await res.text();
      for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g))
        queue.push(new URL(spec!, `http://x${url}`).pathname);
      for (const [, literal] of source.matchAll(/"(\/console\/[^"]+)"/g)) queue.push(literal!);
    }
  }
  return seen;
}

describe("the console page", () => {
  it("is HTML that only runs our own scripts and cannot be framed", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain('<script type="module" src="/console/app.js"></script>');
  });

  it("loads every module, style and library it refers to, each with its content type", async () => {
    const files = await consoleFiles();
    const broken = [...files].filter(([, res]) => res.status !== 200).map(([url, res]) => `${url} → ${res.status}`);
    expect(broken).toEqual([]);
    // The app shell, every view, and each library are among them.
    for (const url of ["/console/app.js", "/console/api.js", "/console/views/admin.js", "/console/views/chart.js", "/console/styles.css"])
      expect(files.has(url), url).toBe(true);
    for (const name of Object.keys(VENDOR_FILES).filter((n) => !n.startsWith("swagger-ui-dist/"))) {
      expect(files.has(`/console/vendor/${name}`), name).toBe(true);
    }
    for (const [url, res] of files) {
      const type = url.endsWith(".css")
        ? "text/css; charset=utf-8"
        : url.endsWith(".svg")
          ? "image/svg+xml"
          : "text/javascript; charset=utf-8";
      expect(res.headers.get("content-type"), url).toBe(type);
    }
  });

  it("lets browsers keep the pinned libraries a day and revalidate our own files", async () => {
    expect((await get("/console/vendor/lit-html.js")).headers.get("cache-control")).toBe("public, max-age=86400");
    expect((await get("/console/app.js")).headers.get("cache-control")).toBe("no-cache");
  });
});

describe("what it does not serve", () => {
  it.each([
    "/console/",
    "/console/views",
    "/console/nope.js",
    "/console/vendor/nope.js",
    "/console/../package.json",
    "/console/%2e%2e/%2e%2e/package.json",
    "/console/..%2f..%2fpackage.json",
    "/console/vendor/..%2f..%2fsrc%2fassets.ts",
    "/console/.hidden.js",
    "/console/APP.JS",
    "/console/app.ts",
  ])("%s is a JSON 404", async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.objectContaining({ code: "NOT_FOUND" }) });
  });
});

describe("in AWS", () => {
  it("serves the same files from the folder infra/api.ts copies next to the function", async () => {
    // What SST's copyFiles does with LAMBDA_COPY_FILES, into a folder of our own.
    const root = mkdtempSync(join(tmpdir(), "gpuaas-lambda-web-"));
    try {
      for (const { from, to } of LAMBDA_COPY_FILES) cpSync(join(REPO_ROOT, from), join(root, to), { recursive: true });
      const lambdaApp = createApp(ctx.core, { consoleAssets: directoryAssets(join(root, "web")) });
      const local = await consoleFiles();
      const deployed = await consoleFiles(lambdaApp);
      expect([...deployed.keys()].sort()).toEqual([...local.keys()].sort());
      for (const [url, res] of deployed) expect(await res.text(), url).toBe(await local.get(url)!.text());
      expect((await get("/console/../web/index.html", lambdaApp)).status).toBe(404);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("keeps the deployed files it found, not its misses (unknown names cannot fill the memory)", async () => {
    const root = mkdtempSync(join(tmpdir(), "gpuaas-assets-"));
    try {
      writeFileSync(join(root, "app.js"), "one");
      const assets = directoryAssets(root);
      expect(String(await assets.read("app.js"))).toBe("one");
      expect(await assets.read("later.js")).toBeUndefined();
      // Files found are served from memory; a name missed before is read again.
      writeFileSync(join(root, "app.js"), "two");
      writeFileSync(join(root, "later.js"), "now here");
      expect(String(await assets.read("app.js"))).toBe("one");
      expect(String(await assets.read("later.js"))).toBe("now here");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
