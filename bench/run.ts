/** `npm run bench`: the request path against the storage floor (npm start + a raw DynamoDB client,
 * bench/request-path.ts), admission latency, the pool-growth probe (bench/pool-growth.ts), storage costs (bench/storage.ts) and the API Lambda
 * bundle (bench/bundle.ts), in one run. Prints one table and writes the method and the numbers into
 * docs/performance.md between its `bench:run` markers. Leaves no process behind: the stack is
 * stopped in `finally`, and bench/stack.ts kills it (and it its Java) on any other exit. */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runBundle } from "./bundle";
import { closeHttp } from "./http";
import { runPoolGrowth } from "./pool-growth";
import { BENCH_TIMEOUT_MS, runAdmission, runRequestPath } from "./request-path";
import { startStack } from "./stack";
import { runStorage } from "./storage";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const doc = join(root, "docs/performance.md");
const BUNDLE_RUNS = Number(process.env.BENCH_BUNDLE_RUNS ?? 11);

const started = new Date();
const stack = await startStack(
  { DEFAULT_MONTHLY_GPU_HOURS: "1000000", AWS_REQUEST_TIMEOUT_MS: BENCH_TIMEOUT_MS },
  process.env.BENCH_CPU_PROF || undefined,
);
let path: Awaited<ReturnType<typeof runRequestPath>>;
let admission: Awaited<ReturnType<typeof runAdmission>>;
let growth: Awaited<ReturnType<typeof runPoolGrowth>>;
try {
  path = await runRequestPath(stack);
  admission = await runAdmission(stack);
  growth = await runPoolGrowth(stack);
} finally {
  closeHttp();
  await stack.stop();
}
const storage = await runStorage();
const bundle = await runBundle(BUNDLE_RUNS);

const f = path.figures;
const summary = [
  ...path.rows.map((r) => ({ figure: r.figure, value: `${r.ratio}  (API ${r.api}; raw ${r.raw})`, goal: r.goal })),
  ...admission.map((r) => ({ figure: r.figure, value: `p50 ${r.p50}, p95 ${r.p95}`, goal: "" })),
  ...growth,
  ...storage.scheduler.map((r) => ({
    figure: `admission pass: ${r.case}`,
    value: `${r["admission pass (median of 5)"]}, ${r["read units"]} read units, ${r["items read"]} items read`,
    goal: "≤ 150 ms, ≤ 50 read units at 10,000 waiting + 500 running",
  })),
  ...storage.rollup.map((r) => ({ figure: `rollup: ${r.case}`, value: `items read ÷ N = ${r["items read ÷ N"]}`, goal: "1.0" })),
  ...bundle.map((r) => ({
    figure: `API Lambda bundle (${r.build})`,
    value: `${r.size} (gzip ${r.gzip}); import + first response ${r["import + first (median)"]}`,
    goal: "",
  })),
];
console.log(`\nnpm run bench — ${started.toISOString()}, ${cpus().length} CPUs, Node ${process.version}`);
console.table(summary);

const table = (rows: Record<string, string>[]) => {
  const cols = Object.keys(rows[0] ?? {});
  return [
    `| ${cols.join(" | ")} |`,
    `| ${cols.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? "").replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
};
const section = `<!-- bench:run (written by npm run bench; edit outside these markers) -->
Run of ${started.toISOString().slice(0, 16)} UTC on the development machine (${cpus().length} vCPU, Node ${process.version}), shared with other work
at the time, so absolute times move from run to run; the ratios are taken side by side in the same run.

**Ratios** (sequential p50s: one call at a time, API and raw interleaved; ${f.apiRate.toFixed(0)} submissions/s settled vs ${f.rawRate.toFixed(0)}/s raw):

${table(path.rows)}

**Admission latency** (npm start, a 1-GPU pool):

${table(admission)}

**Pool growth** (npm start: N one-GPU jobs wait in a 1-GPU L4 pool, then an admin grows it to fit them all; bench/pool-growth.ts):

${table(growth)}

**DynamoDB capacity per operation** (\`ReturnConsumedCapacity: INDEXES\` as DynamoDB Local reports it, in-process core on an on-disk DynamoDB Local):

${table(storage.capacity)}

**Admission pass cost** (one pass over a full pool: it reads the running set and the window of the queue, plans, admits nothing, stores its plan):

${table(storage.scheduler)}

**Daily rollup**:

${table(storage.rollup)}

**API Lambda bundle** (${BUNDLE_RUNS} fresh processes per build):

${table(bundle)}
<!-- /bench:run -->`;
const text = readFileSync(doc, "utf8");
const begin = text.indexOf("<!-- bench:run");
const end = text.indexOf("<!-- /bench:run -->");
writeFileSync(
  doc,
  begin >= 0 && end > begin
    ? text.slice(0, begin) + section + text.slice(end + "<!-- /bench:run -->".length)
    : `${text.trimEnd()}\n\n${section}\n`,
);
console.log(`Method and numbers written to ${doc}`);
process.exit(0);
