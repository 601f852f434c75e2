/** Bundle size and cold start of the API Lambda. Builds packages/functions/src/api/lambda.ts with
 * esbuild the way SST's Node runtime does, then, in fresh Node processes, times the cold import of
 * the bundle and its first response to an API Gateway v2 event (a route that needs no AWS call).
 *
 *   npm run bench:bundle [-- --runs 21]
 *
 * Two builds: "sst" is what `sst deploy` ships by default (everything bundled, so the AWS SDK
 * version is the lockfile's); "sdk-external" leaves @aws-sdk/* to the Lambda runtime's copy. */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import { median, ms, quantile } from "./stats";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "packages/functions/src/api/lambda.ts");
// Inside the repo so an external @aws-sdk/* resolves from node_modules, as the runtime's copy would.
const outRoot = join(root, "node_modules/.cache/gpuaas-bench");

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || (args.includes("--runs") ? NaN : 21);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");

/** SST's options for a nodejs function (pkg/runtime/node/build.go): ESM, minified, names kept,
 * "module" before "main", and a banner giving CommonJS dependencies require/__dirname. */
const sstOptions: BuildOptions = {
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "esm",
  // SST's target for the nodejs22.x runtime infra/defaults.ts picks.
  target: "es2023",
  minify: true,
  keepNames: true,
  mainFields: ["module", "main"],
  external: ["sharp", "pg-native"],
  banner: {
    js: [
      `import { createRequire as topLevelCreateRequire } from 'module';`,
      `const require = topLevelCreateRequire(import.meta.url);`,
      `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
      `const __filename = topLevelFileUrlToPath(import.meta.url)`,
      `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
    ].join("\n"),
  },
  logLevel: "warning",
};

const variants = {
  sst: sstOptions,
  "sdk-external": { ...sstOptions, external: [...(sstOptions.external ?? []), "@aws-sdk/*"] },
} satisfies Record<string, BuildOptions>;

/** Runs in a fresh process: cold import of the bundle, then one API Gateway v2 event. */
const probe = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE);
const t1 = performance.now();
const path = "/api/v1/catalog/gpus";
const event = {
  version: "2.0", routeKey: "$default", rawPath: path, rawQueryString: "",
  headers: { host: "bench.execute-api.us-east-1.amazonaws.com", accept: "application/json" },
  requestContext: { accountId: "123456789012", apiId: "bench", domainName: "bench.execute-api.us-east-1.amazonaws.com",
    domainPrefix: "bench", http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
    requestId: "bench", routeKey: "$default", stage: "$default", time: "", timeEpoch: 0 },
  isBase64Encoded: false,
};
const res = await handler(event, { awsRequestId: "bench" });
const t2 = performance.now();
if (res.statusCode !== 200) throw new Error("unexpected status " + res.statusCode + ": " + res.body);
await handler(event, { awsRequestId: "bench-2" });
const t3 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstResponseMs: t2 - t1, warmResponseMs: t3 - t2 }));
`;

/** The API function's links as SST's Resource reads them (placeholders; nothing is called). */
const lambdaEnv = {
  SST_RESOURCE_App: JSON.stringify({ name: "gpuaas", stage: "bench" }),
  SST_RESOURCE_Table: JSON.stringify({ name: "gpuaas-bench-Table", type: "sst.aws.Dynamo" }),
  SST_RESOURCE_JwtSecret: JSON.stringify({ value: "bench-secret-that-is-long-enough-for-hs256", type: "sst.sst.Secret" }),
  SST_RESOURCE_JobWorkflow: JSON.stringify({
    arn: "arn:aws:states:us-east-1:123456789012:stateMachine:gpuaas-bench-JobWorkflow",
    type: "sst.sst.Linkable",
  }),
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  NODE_OPTIONS: "",
};

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Builds both variants and times them in `runs` fresh processes each. */
export async function runBundle(runs: number): Promise<Record<string, string>[]> {
  rmSync(outRoot, { recursive: true, force: true });
  const rows: Record<string, string>[] = [];
  for (const [name, options] of Object.entries(variants)) {
    const outfile = join(outRoot, name, "bundle.mjs");
    mkdirSync(dirname(outfile), { recursive: true });
    const started = performance.now();
    await build({ ...options, outfile });
    const buildMs = performance.now() - started;
    const code = readFileSync(outfile);

    const probeFile = join(outRoot, name, "probe.mjs");
    writeFileSync(probeFile, probe);
    const samples: { importMs: number; firstResponseMs: number; warmResponseMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const child = spawnSync(process.execPath, ["--no-warnings", probeFile], {
        env: { PATH: process.env.PATH, ...lambdaEnv, BUNDLE: outfile },
        encoding: "utf8",
      });
      if (child.status !== 0) throw new Error(`probe failed (${name}):\n${child.stderr}`);
      samples.push(JSON.parse(child.stdout));
    }
    const importMs = median(samples.map((s) => s.importMs));
    const firstMs = median(samples.map((s) => s.firstResponseMs));
    rows.push({
      build: name,
      size: kib(statSync(outfile).size),
      gzip: kib(gzipSync(code).length),
      "build time": ms(buildMs),
      "cold import (median)": ms(importMs),
      "first response (median)": ms(firstMs),
      "import + first (median)": ms(median(samples.map((s) => s.importMs + s.firstResponseMs))),
      "import + first (p90)": ms(
        quantile(
          samples.map((s) => s.importMs + s.firstResponseMs),
          0.9,
        ),
      ),
      "second response (median)": ms(median(samples.map((s) => s.warmResponseMs))),
    });
  }

  return rows;
}

// Run alone: npm run bench:bundle
if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runBundle(runs);
  console.log(`API Lambda bundle, ${runs} fresh processes per build, Node ${process.version} (${process.arch}):`);
  console.table(rows);
}
