/** `npm run bench`: runs every benchmark in turn and prints their reports. */
import { spawnSync } from "node:child_process";

const BENCHES = ["bench:submissions", "bench:bundle"];
const scripts = (await import("../package.json", { with: { type: "json" } })).default.scripts as Record<string, string>;

let failed = false;
for (const name of BENCHES.filter((b) => b in scripts)) {
  console.log(`\n=== ${name} ===`);
  const run = spawnSync("npm", ["run", "--silent", name], {
    stdio: "inherit",
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
