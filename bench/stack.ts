/** Starts `npm start` (packages/local/src/main.ts) as a child process on free ports and a fresh data
 * directory, exactly as a developer runs it, and guarantees it (and its Java) is gone on every exit
 * path of the benchmark: stop(), process exit, a signal, or the benchmark being SIGKILLed. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKey } from "@gpuaas/core";
import { freePort, killWhenGone } from "../packages/local/src/dynamodb-local";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface BenchStack {
  url: string;
  dynamoEndpoint: string;
  table: string;
  admin: { email: string; password: string };
  /** The stack's token signing key (JWT_SIGNING_KEY), for benches that build their own core on its table. */
  signingKey: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  // The server's own exit hook and watchdog then kill Java.
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => process.exit(130));
}

/** `npm start` with `env` on top of the defaults; `cpuProfDir` runs it under `node --cpu-prof`. */
export async function startStack(env: Record<string, string> = {}, cpuProfDir?: string): Promise<BenchStack> {
  hookExit();
  const dataDir = mkdtempSync(join(tmpdir(), "gpuaas-bench-"));
  const [port, dynamoPort] = [await freePort(), await freePort()];
  const admin = { email: "bench-admin@example.com", password: "bench admin password" };
  const signingKey = JSON.stringify(generateSigningKey("bench"));
  const child = spawn(
    process.execPath,
    [...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : []), "--import", "tsx", "packages/local/src/main.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        DYNAMODB_PORT: String(dynamoPort),
        DATA_DIR: dataDir,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        JWT_SIGNING_KEY: signingKey,
        LOG_LEVEL: "WARN",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  live.add(child);
  if (child.pid) killWhenGone(child.pid);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`npm start did not answer within 60 s:\n${output}`);
    }
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
    table: env.TABLE_NAME ?? "gpuaas",
    admin,
    signingKey,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 8000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
