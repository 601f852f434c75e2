/**
 * The web console's files and where they come from. Ours live in packages/web/public; the
 * libraries (and Swagger UI's, for GET /docs) are served straight from their npm packages (no build
 * step, no CDN). Locally they are
 * read from the repository and node_modules; in AWS, infra/api.ts copies the same files next to the
 * function (`web/` and `web/vendor/`) and the Lambda reads them from there.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Each library file the console loads, by the name it is served under (/console/vendor/<name>). */
export const VENDOR_FILES = {
  "lit-html.js": "lit-html/lit-html.js",
  "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
  "pico.min.css": "@picocss/pico/css/pico.min.css",
  // Swagger UI, for GET /docs (routes/docs.ts points @hono/swagger-ui here instead of a CDN).
  "swagger-ui-dist/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
} as const;

/** Where GET /docs loads Swagger UI from: @hono/swagger-ui appends `/swagger-ui-dist/<file>`. */
export const SWAGGER_UI_BASE_URL = "/console/vendor";

/** Where a console file is read from: `name` is a path below /console/ ("app.js", "vendor/lit-html.js"). */
export interface AssetSource {
  read(name: string): Promise<Buffer | undefined>;
}

/** Names a console file may have: lower-case path segments, one known extension; never `..`. */
const SAFE_NAME = /^(?:[a-z0-9][a-z0-9_-]*\/)*[a-z0-9][a-z0-9._-]*\.(?:html|js|css|svg|png|ico)$/;
export const isSafeAssetName = (name: string) => SAFE_NAME.test(name) && !name.includes("..");

const vendorSpec = (name: string) => (VENDOR_FILES as Record<string, string>)[name.slice("vendor/".length)];

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw error;
  }
}

/** Reads only safe names; a file found once stays in memory when `cache` (deployed files never change); misses are not kept. */
function source(read: (name: string) => Promise<Buffer | undefined>, { cache }: { cache: boolean }): AssetSource {
  const files = new Map<string, Promise<Buffer | undefined>>();
  return {
    read(name) {
      if (!isSafeAssetName(name)) return Promise.resolve(undefined);
      if (!cache) return read(name);
      let file = files.get(name);
      if (!file) {
        file = read(name);
        files.set(name, file);
        // Only files found stay: a miss is not kept, so unknown names cannot fill the memory.
        file.then(
          (found) => found || files.delete(name),
          () => files.delete(name),
        );
      }
      return file;
    },
  };
}

/** The repository's files: packages/web/public and the libraries in node_modules (`npm start`, tests).
 * Read on every request, so an edited console file shows on the next page load. */
export function repositoryAssets(): AssetSource {
  const publicDir = fileURLToPath(new URL("../public/", import.meta.url));
  // Where Node would look for packages from here (packages' "exports" hide their dist files from require.resolve).
  const nodeModules = createRequire(import.meta.url).resolve.paths("lit-html") ?? [];
  return source(
    async (name) => {
      if (!name.startsWith("vendor/")) return readIfExists(join(publicDir, name));
      const spec = vendorSpec(name);
      for (const dir of spec ? nodeModules : []) {
        const file = await readIfExists(join(dir, spec!));
        if (file) return file;
      }
      return undefined;
    },
    { cache: false },
  );
}

/** Files copied into `dir` (public files at its top, libraries under vendor/): the deployed Lambda. */
export function directoryAssets(dir: string): AssetSource {
  return source(async (name) => (name.startsWith("vendor/") && !vendorSpec(name) ? undefined : readIfExists(join(dir, name))), {
    cache: true,
  });
}

/** What the API function must ship (SST `copyFiles`, paths from the repository root) for directoryAssets("web"). */
export const LAMBDA_COPY_FILES = [
  { from: "packages/web/public", to: "web" },
  ...Object.entries(VENDOR_FILES).map(([name, spec]) => ({ from: `node_modules/${spec}`, to: `web/vendor/${name}` })),
];
