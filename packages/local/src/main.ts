/** `npm start`: the whole system locally. Ctrl-C (or any exit) stops everything, Java included. */
import { JavaMissingError, PortInUseError } from "./dynamodb-local";
import { startLocalStack, type LocalStack } from "./stack";
import { ConfigError } from "@gpuaas/core/config/config";

let stack: LocalStack | undefined;
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  await stack?.stop().catch(() => undefined);
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping…`);
    void shutdown(0);
  });
}
process.on("uncaughtException", (error) => {
  console.error("Fatal:", error);
  void shutdown(1);
});
process.on("unhandledRejection", (error) => {
  console.error("Fatal:", error);
  void shutdown(1);
});

try {
  stack = await startLocalStack();
  const { url, admin, dataDir, resumedJobs } = stack;
  console.log(
    [
      "",
      `GPU-as-a-Service is running at ${url}`,
      `  health:      ${url}/health`,
      `  API:         ${url}/api/v1`,
      `  data:        ${dataDir} (delete it to start from scratch)`,
      `  admin:       ${admin.email} / ${admin.password}${admin.created ? " (created now)" : ""}  (override with ADMIN_EMAIL / ADMIN_PASSWORD)`,
      `  workflows:   local Step Functions interpreter${resumedJobs ? `, ${resumedJobs} open job(s) resumed` : ""}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
} catch (error) {
  const known = error instanceof JavaMissingError || error instanceof PortInUseError || error instanceof ConfigError;
  console.error(known ? (error as Error).message : error);
  await shutdown(1);
}
