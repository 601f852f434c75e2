/** The local stack started as a user starts it, for end-to-end tests: `npm start` (npm → sh → tsx →
 * node) or `node --import tsx packages/local/src/main.ts`, with real ports and a data dir on disk.
 * A sandbox owns every process it starts: cleanup() kills their process groups and any Java serving
 * its data dirs, so a failing test leaves nothing behind. Linux only (/proc, ps, pgrep). */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../packages/local/src/dynamodb-local";
import { eventually } from "./wait";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MAIN = "packages/local/src/main.ts";
export const ADMIN_PASSWORD = "e2e admin password";

export type Launcher = "npm" | "node";

export interface SpawnOptions {
  launcher?: Launcher;
  /** Environment on top of PORT, DATA_DIR (the sandbox's root) and ADMIN_PASSWORD; undefined unsets. */
  env?: Record<string, string | undefined>;
}

export interface SpawnedStack {
  /** npm, or node itself; the leader of the stack's process group. */
  child: ChildProcess;
  port: number;
  url: string;
  dataDir: string;
  /** Settles with the spawned process's exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export interface StartedStack extends SpawnedStack {
  /** Everything the stack printed so far (stdout and stderr). */
  output(): string;
}

const CLOCK_TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function commandOf(launcher: Launcher): [string, string[]] {
  return launcher === "npm" ? ["npm", ["start"]] : [process.execPath, ["--import", "tsx", MAIN]];
}

const definedOnly = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

export function localStackSandbox(prefix = "gpuaas-e2e-") {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const spawned: ChildProcess[] = [];

  /** Spawns the stack with its output piped and unread; the caller reads (or closes) it. */
  async function spawnStack(options: SpawnOptions = {}): Promise<SpawnedStack> {
    const port = await freePort();
    const dataDir = options.env?.DATA_DIR ?? root;
    const [command, args] = commandOf(options.launcher ?? "node");
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: definedOnly({ ...process.env, PORT: String(port), DATA_DIR: root, ADMIN_PASSWORD, ...options.env }),
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so cleanup reaches tsx and node even when npm is gone.
      detached: true,
    });
    spawned.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, port, url: `http://127.0.0.1:${port}`, dataDir, exited };
  }

  /** Spawns the stack and waits for its banner (or its early exit). */
  async function startStack(options: SpawnOptions = {}): Promise<StartedStack> {
    const stack = await spawnStack(options);
    let output = "";
    stack.child.stdout!.on("data", (d) => (output += d));
    stack.child.stderr!.on("data", (d) => (output += d));
    await eventually("the server to start", () => output.includes("is running at") || stack.child.exitCode !== null, 60_000, 200);
    return { ...stack, output: () => output };
  }

  /** Java processes serving `dataDir` (by default any data dir of this sandbox). */
  const javaPids = (dataDir = root) => pgrep(`dbPath ${dataDir}`);

  function cleanup() {
    for (const child of spawned) signalGroup(child, "SIGKILL");
    spawnSync("pkill", ["-9", "-f", `dbPath ${root}`]);
    rmSync(root, { recursive: true, force: true });
  }

  return { root, spawnStack, startStack, javaPids, cleanup };
}

export function pgrep(pattern: string): number[] {
  return spawnSync("pgrep", ["-f", pattern], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
}

/** Sends `signal` to the whole process group the stack's spawned process leads. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* the group is gone */
  }
}

interface ProcessRow {
  pid: number;
  ppid: number;
  pgid: number;
  args: string;
}

function processes(): ProcessRow[] {
  const { stdout } = spawnSync("ps", ["-e", "-o", "pid=,ppid=,pgid=,args="], { encoding: "utf8" });
  return stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, pid, ppid, pgid, args]) => ({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), args: args! }));
}

/** Live processes of the stack's process group (zombies excluded). */
export function groupPids(stack: SpawnedStack): number[] {
  return processes()
    .filter((p) => p.pgid === stack.child.pid && isAlive(p.pid))
    .map((p) => p.pid);
}

/** The Node process that runs main.ts: under npm, the innermost of npm → sh → tsx → node. */
export function serverPid(stack: SpawnedStack): number | undefined {
  const running = processes().filter((p) => p.pgid === stack.child.pid && p.args.includes(MAIN));
  return running.find((p) => !running.some((other) => other.ppid === p.pid))?.pid;
}

/** CPU time (user + system) the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
