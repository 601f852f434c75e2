/** `npm start` under what users and their tools do to it: a reader of its output that goes away,
 * SIGTERM with connections and requests in flight or with DynamoDB Local stalled, and bodies over
 * the limit on keep-alive connections. Real processes, as in local-stack.e2e.test.ts. */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { MAX_BODY_BYTES } from "@gpuaas/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cpuSeconds,
  groupPids,
  isAlive,
  localStackSandbox,
  REPO_ROOT,
  type SpawnedStack,
  type StartedStack,
  serverPid,
} from "./support/local-stack";
import { eventually, sleep } from "./support/wait";

const sandbox = localStackSandbox("gpuaas-robustness-");
afterAll(() => sandbox.cleanup());

/** Every process of the stack must be gone this soon after SIGTERM, Java included. */
const STOP_WITHIN_MS = 6000;

const health = (url: string) =>
  fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
    (res) => res.status,
    () => 0,
  );

/** Reads the first output (npm's, as `| head -c 100` would) and, once the server process runs,
 * closes both pipes: the banner and everything after it go to a closed pipe. */
async function readFirstBytesThenClose(stack: SpawnedStack) {
  const { stdout, stderr } = stack.child;
  await new Promise<void>((resolve) => {
    stdout!.once("data", () => resolve());
    stderr!.once("data", () => resolve());
  });
  // Not earlier: npm itself may die writing to a closed pipe before it starts the script.
  await eventually("the server process to start", () => serverPid(stack), 30_000, 50);
  stdout!.destroy();
  stderr!.destroy();
}

/** Fails unless the stack's whole process group and its Java are gone within STOP_WITHIN_MS (Java: at least 1 s after the group). */
async function stopped(stack: SpawnedStack) {
  const deadline = Date.now() + STOP_WITHIN_MS;
  await eventually("every process of the stack to exit", () => groupPids(stack).length === 0, STOP_WITHIN_MS, 100);
  // Java (its own process group) by the same deadline; a loaded machine may take a moment to reap it.
  await eventually("Java to be gone", () => sandbox.javaPids(stack.dataDir).length === 0, Math.max(1000, deadline - Date.now()), 100);
}

/** Opens `count` keep-alive connections that stay idle once answered. */
async function idleKeepAliveConnections(url: string, count: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: count });
  const answered = () =>
    new Promise<void>((resolve, reject) => {
      request(`${url}/api/v1/catalog/gpus`, { agent }, (res) => res.resume().on("end", resolve))
        .on("error", reject)
        .end();
    });
  await Promise.all(Array.from({ length: count }, answered));
  return agent;
}

/** A request whose body never finishes arriving: the server holds it in progress. */
function unfinishedUpload(url: string, agent: Agent) {
  const req = request(`${url}/api/v1/auth/register`, {
    method: "POST",
    agent,
    headers: { "content-type": "application/json", "content-length": "1000" },
  });
  req.on("error", () => undefined);
  req.write('{"email":');
  return req;
}

/** A request the app is busy with: it waits on DynamoDB Local. */
function pendingRequest(url: string, agent: Agent, path: string) {
  const req = request(`${url}${path}`, { agent });
  req.on("error", () => undefined);
  req.end();
  return req;
}

function bytes(size: number) {
  return new Uint8Array(size).fill(0x78);
}

/** A body of `size` bytes sent chunked (no Content-Length), 64 KiB at a time. */
function chunked(size: number) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = bytes(Math.min(64 * 1024, size - sent));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const postBody = (url: string, body: Uint8Array | ReadableStream<Uint8Array> | string) =>
  fetch(`${url}/api/v1/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" });

describe("npm start whose output is closed by its reader", () => {
  it("keeps serving without spinning, and SIGTERM still stops everything", async () => {
    const stack = await sandbox.spawnStack({ launcher: "npm" });
    await readFirstBytesThenClose(stack);

    await eventually("the server to answer /health", async () => (await health(stack.url)) === 200, 60_000, 250);
    const pid = serverPid(stack)!;
    // The start-up runs of the schedules (rollup, reconciler, quota reset) take a few seconds of
    // their own; then the server idles. An idle server uses next to nothing over 2 s; a loop on
    // write errors uses the whole 2 s of a core. The bound (a quarter) tells the two apart on a busy machine.
    await sleep(3000);
    const before = cpuSeconds(pid);
    await sleep(2000);
    expect(cpuSeconds(pid) - before).toBeLessThan(0.5);
    expect(await health(stack.url)).toBe(200);

    process.kill(pid, "SIGTERM");
    await stopped(stack);
  }, 120_000);
});

describe("the output guard", () => {
  it("also covers a logger with its own node:console Console: no crash, no spin", async () => {
    // Logs through console.* and a Powertools-style Console every 5 ms; exits 0 if it neither saw an
    // uncaught exception (2) nor burnt CPU (3) after its reader went away.
    const script = `
      const { guardProcessOutput } = await import("./packages/local/src/output.ts");
      const { Console } = await import("node:console");
      guardProcessOutput();
      process.on("uncaughtException", () => process.exit(2));
      const logger = new Console({ stdout: process.stdout, stderr: process.stderr });
      const timer = setInterval(() => { logger.log('{"level":"INFO"}'); logger.error("e"); console.log("c"); console.error("c"); }, 5);
      setTimeout(() => { const start = process.cpuUsage(); setTimeout(() => {
        const used = process.cpuUsage(start); clearInterval(timer);
        process.exit(used.user + used.system > 500_000 ? 3 : 0);
      }, 1000); }, 500);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exitCode = new Promise((resolve) => child.once("exit", resolve));
    await Promise.race([exitCode, new Promise((resolve) => child.stdout!.once("data", resolve))]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    expect(await exitCode).toBe(0);
  }, 30_000);
});

describe("one npm start", () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await sandbox.startStack({ launcher: "npm" });
    expect(stack.output()).toContain("is running at");
  }, 90_000);

  it("answers every oversized body with a readable 413, and the connection serves the next request", async () => {
    const oversized = [70_000, 1_000_000, 5_000_000, 20_000_000].map((size) => ({ name: `${size} bytes`, body: () => bytes(size) }));
    const streamed = [100_000, 5_000_000].map((size) => ({ name: `${size} bytes chunked`, body: () => chunked(size) }));
    const round = [...oversized, ...streamed];
    const failures: string[] = [];
    let answered = 0;

    // Three clients' worth of requests at once, each oversized POST followed by an ordinary GET.
    await Promise.all(
      [0, 1, 2].map(async (worker) => {
        for (let i = 0; i < 2; i++) {
          for (const { name, body } of round) {
            try {
              const res = await postBody(stack.url, body());
              const json = (await res.json()) as { error?: { code?: string; message?: string } };
              if (
                res.status !== 413 ||
                json.error?.code !== "PAYLOAD_TOO_LARGE" ||
                !json.error.message ||
                !res.headers.get("x-request-id")
              ) {
                failures.push(`${name}: ${res.status} ${JSON.stringify(json)}`);
              }
              const next = await fetch(`${stack.url}/api/v1/catalog/gpus`);
              await next.arrayBuffer();
              if (next.status !== 200) failures.push(`after ${name}: ${next.status}`);
              answered++;
            } catch (error) {
              failures.push(`${name} (worker ${worker}): ${(error as Error).message} ${String((error as Error).cause ?? "")}`);
            }
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(answered).toBe(36);
  }, 120_000);

  it("hands bodies within the limit to the app, chunked or not", async () => {
    const register = JSON.stringify({ email: "chunked@example.com", password: "chunked password", fullName: "C" });
    const encoded = new TextEncoder().encode(register);
    const halves = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoded.subarray(0, 20));
        controller.enqueue(encoded.subarray(20));
        controller.close();
      },
    });
    expect((await postBody(stack.url, halves)).status).toBe(201);

    // Just under the limit: the app reads it and rejects the field, it is no 413.
    const large = JSON.stringify({ email: "large@example.com", password: "large password", fullName: "x".repeat(MAX_BODY_BYTES - 200) });
    const res = await postBody(stack.url, large);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).not.toBe("PAYLOAD_TOO_LARGE");
  }, 30_000);

  it("refuses an oversized body before it is sent when the client asks first (Expect: 100-continue)", async () => {
    const answer = await new Promise<{ status?: number; body: string; requestId: unknown }>((resolve, reject) => {
      const req = request(`${stack.url}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "5000000", expect: "100-continue", "x-request-id": "continue-1" },
      });
      req.on("continue", () => reject(new Error("the server asked for the body")));
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body, requestId: res.headers["x-request-id"] }));
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(answer.requestId).toBe("continue-1");
  }, 30_000);

  it("SIGTERM to npm stops every process within seconds, despite keep-alive connections and a request in progress", async () => {
    const agent = await idleKeepAliveConnections(stack.url, 3);
    const upload = unfinishedUpload(stack.url, new Agent({ keepAlive: true }));
    await sleep(200);

    stack.child.kill("SIGTERM");
    await stopped(stack);
    upload.destroy();
    agent.destroy();
  }, 30_000);
});

describe("node main.ts with DynamoDB Local stalled", () => {
  it("SIGTERM stops every process within seconds, the stopped Java included", async () => {
    const stack = await sandbox.startStack({ launcher: "node", env: { DATA_DIR: `${sandbox.root}/stalled` } });
    const agent = await idleKeepAliveConnections(stack.url, 2);
    const [java] = sandbox.javaPids(stack.dataDir);
    expect(java).toBeDefined();
    process.kill(java!, "SIGSTOP");
    const busy = [pendingRequest(stack.url, agent, "/health"), pendingRequest(stack.url, agent, "/health")];
    await sleep(300);

    stack.child.kill("SIGTERM");
    await stopped(stack);
    expect(isAlive(java!)).toBe(false);
    for (const req of busy) req.destroy();
    agent.destroy();
  }, 120_000);
});
