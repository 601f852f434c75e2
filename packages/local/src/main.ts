/** `npm start`: the whole system locally. Ctrl-C / SIGTERM (or any exit) stops everything, Java
 * included, within seconds whatever is in flight; output nobody reads any more never stops it. */

import { ConfigError } from "@gpuaas/core";
import { JavaMissingError, PortInUseError } from "./dynamodb-local";
import { guardProcessOutput } from "./output";
import { type LocalStack, startLocalStack } from "./stack";

/** However stop() fares, the process exits by then (and the launcher's exit hook kills Java). */
const SHUTDOWN_DEADLINE_MS = 5000;

guardProcessOutput();

let stack: LocalStack | undefined;
let stopping = false;
let failed = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(code), SHUTDOWN_DEADLINE_MS);
  await stack?.stop().catch(() => undefined);
  process.exit(code);
}

/** Reports the first unexpected error and stops; later ones only wait for that stop. */
function fatal(error: unknown) {
  if (failed) return;
  failed = true;
  try {
    // Structured, like every other line the server logs; before the stack is up, plain text.
    if (stack) stack.core.log.error("Fatal: stopping", { error });
    else console.error("Fatal:", error);
  } catch {
    // Nowhere to report it; stopping matters more.
  }
  void shutdown(1);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.log(`\n${signal}: stopping…`);
    void shutdown(0);
  });
}
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

try {
  stack = await startLocalStack();
  const { url, admin, dataDir, resumedJobs, webhookUrl } = stack;
  console.log(
    [
      "",
      `GPU-as-a-Service is running at ${url}`,
      `  health:      ${url}/health`,
      `  API:         ${url}/api/v1`,
      `  data:        ${dataDir} (delete it to start from scratch)`,
      `  admin:       ${admin.email} / ${admin.password}${admin.created ? " (created now)" : ""}  (override with ADMIN_EMAIL / ADMIN_PASSWORD)`,
      `  workflows:   local Step Functions interpreter${resumedJobs ? `, ${resumedJobs} open job(s) resumed` : ""}`,
      `  events:      ${webhookUrl ? `POSTed to ${webhookUrl}` : "off (set WEBHOOK_URL to receive them)"}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
} catch (error) {
  const known = error instanceof JavaMissingError || error instanceof PortInUseError || error instanceof ConfigError;
  console.error(known ? (error as Error).message : error);
  await shutdown(1);
}
