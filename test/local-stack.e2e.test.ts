/** `npm start` as a user runs it: a real process, real ports, a data dir on disk. Checks that a
 * restart keeps data, Ctrl-C stops Java, and even a SIGKILLed server leaves no Java behind. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localStackSandbox, MAIN } from "./support/local-stack";
import { eventually } from "./support/wait";

const sandbox = localStackSandbox();
const dataDir = sandbox.root;
afterAll(() => sandbox.cleanup());

const javaPids = () => sandbox.javaPids();

/** The local IPv4 addresses with a TCP socket listening on `port` (from /proc/net/tcp, state 0A). */
function listeningAddresses(port: number): string[] {
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[3] === "0A" && Number.parseInt(cols[1]!.split(":")[1]!, 16) === port)
    .map((cols) => {
      const hex = cols[1]!.split(":")[0]!;
      return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
    });
}
const startServer = (env: Record<string, string | undefined> = {}) => sandbox.startStack({ launcher: "node", env });
const waitFor = (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => eventually(what, check, timeoutMs, 200);

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe("npm start", () => {
  it("serves the API, survives a restart with its data, and Ctrl-C stops Java", async () => {
    const first = await startServer();
    expect(first.output()).toContain("admin@gpuaas.local / e2e admin password");
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    expect(javaPids()).toHaveLength(1);

    const reg = await post(`${first.url}/api/v1/auth/register`, { email: "e2e@example.com", password: "e2e password!", fullName: "E" });
    expect(reg.status).toBe(201);
    const { accessToken } = (await (
      await post(`${first.url}/api/v1/auth/login`, { email: "e2e@example.com", password: "e2e password!" })
    ).json()) as any;
    const job = await post(
      `${first.url}/api/v1/jobs`,
      { name: "j", image: "img", command: "run", gpuType: "T4", gpuCount: 1, estimatedHours: 1 },
      accessToken,
    );
    expect(job.status).toBe(201);
    const jobId = ((await job.json()) as any).id;

    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    await waitFor(() => javaPids().length === 0, 10_000, "Java to stop after Ctrl-C");

    const second = await startServer();
    // Same data dir: the user, the job and the signing secret (so the old token) are all still there.
    const res = await fetch(`${second.url}/api/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    expect(second.output()).not.toContain("(created now)");
    second.child.kill("SIGTERM");
    await second.exited;
    await waitFor(() => javaPids().length === 0, 10_000, "Java to stop after SIGTERM");
  }, 120_000);

  it("without ADMIN_PASSWORD makes up the admin's password, keeps it in the data dir and prints it; listens on loopback only", async () => {
    const env = { DATA_DIR: join(dataDir, "generated-admin"), ADMIN_PASSWORD: undefined };
    const first = await startServer(env);
    const printed = /admin:\s+admin@gpuaas\.local \/ (\S+)/.exec(first.output())?.[1];
    expect(printed).toBeDefined();
    expect(printed).not.toBe("admin-change-me");
    expect(printed!.length).toBeGreaterThanOrEqual(20);
    expect(readFileSync(join(env.DATA_DIR, "admin-password"), "utf8").trim()).toBe(printed);
    const login = await post(`${first.url}/api/v1/auth/login`, { email: "admin@gpuaas.local", password: printed });
    expect(login.status).toBe(200);
    // Bound to 127.0.0.1, not to every interface: the kernel's table of listening TCP sockets says so.
    expect(listeningAddresses(first.port)).toEqual(["127.0.0.1"]);
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);

    // A second start prints the same kept password; another data dir gets another one.
    const second = await startServer(env);
    expect(second.output()).toContain(`admin@gpuaas.local / ${printed}`);
    second.child.kill("SIGINT");
    await second.exited;
    const other = await startServer({ DATA_DIR: join(dataDir, "generated-admin-2"), ADMIN_PASSWORD: undefined });
    expect(/admin:\s+admin@gpuaas\.local \/ (\S+)/.exec(other.output())?.[1]).not.toBe(printed);
    other.child.kill("SIGINT");
    await other.exited;
    await waitFor(() => javaPids().length === 0, 10_000, "Java to stop");
  }, 120_000);

  it("after a crash mid-run, the restarted server finishes the job and settles its quota", async () => {
    const env = { DATA_DIR: join(dataDir, "crash"), SIMULATION_SECONDS_PER_HOUR: "4", SIMULATION_FAILURE_RATE: "0" };
    const crashJava = () => sandbox.javaPids(env.DATA_DIR);
    const first = await startServer(env);
    const api = `${first.url}/api/v1`;
    await post(`${api}/auth/register`, { email: "crash@example.com", password: "crash password", fullName: "C" });
    const login = async (url: string, email: string, password: string) =>
      ((await (await post(`${url}/auth/login`, { email, password })).json()) as any).accessToken as string;
    const user = await login(api, "crash@example.com", "crash password");
    const admin = await login(api, "admin@gpuaas.local", "e2e admin password");
    const job = (await (
      await post(`${api}/jobs`, { name: "j", image: "img", command: "run", gpuType: "T4", gpuCount: 2, estimatedHours: 1.5 }, user)
    ).json()) as any;
    expect((await post(`${api}/admin/jobs/${job.id}/approve`, {}, admin)).status).toBe(200);
    expect((await post(`${api}/admin/jobs/${job.id}/start`, {}, admin)).status).toBe(200);

    // The simulated run takes 6 s; kill everything 1 s in, as a crash would.
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill("SIGKILL");
    await first.exited;
    await waitFor(() => crashJava().length === 0, 10_000, "the watchdog to stop Java");

    const second = await startServer(env);
    expect(second.output()).toMatch(/1 open job\(s\) resumed/);
    const read = async () =>
      (await (await fetch(`${second.url}/api/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${user}` } })).json()) as any;
    await waitFor(async () => (await read()).status === "COMPLETED", 30_000, "the resumed job to complete");
    expect(await read()).toMatchObject({ status: "COMPLETED", usedGpuHours: 3, actualCostUsd: "0.36" });
    const me = (await (await fetch(`${second.url}/api/v1/me`, { headers: { authorization: `Bearer ${user}` } })).json()) as any;
    expect(me.quota).toMatchObject({ reservedHours: 0, usedHours: 3 });
    second.child.kill("SIGINT");
    await second.exited;
  }, 120_000);

  it("leaves no Java running when the server is killed with SIGKILL", async () => {
    const server = await startServer();
    expect(javaPids()).toHaveLength(1);
    server.child.kill("SIGKILL");
    await server.exited;
    await waitFor(() => javaPids().length === 0, 10_000, "the watchdog to stop Java");
  }, 120_000);

  it("says so in one line when the port is taken", async () => {
    const server = await startServer();
    const clash = spawnSync(process.execPath, ["--import", "tsx", MAIN], {
      env: { ...process.env, PORT: String(server.port), DATA_DIR: join(dataDir, "other") },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain(`Port ${server.port} is already in use`);
    server.child.kill("SIGINT");
    await server.exited;
  }, 120_000);

  it("says in one line how to install Java when it is missing", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN], {
      env: { ...process.env, PATH: "/nonexistent", DATA_DIR: join(dataDir, "nojava"), PORT: "0" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.split("\n").filter((l) => l.includes("Java"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/needs Java 17 or newer .*install/i);
  }, 60_000);

  it("names a bad setting in one line and starts nothing", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN], {
      env: { ...process.env, DATA_DIR: join(dataDir, "badconfig"), PORT: "0", ADMIN_PASSWORD: "short", DEFAULT_MONTHLY_GPU_HOURS: "lots" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^Invalid configuration: .*ADMIN_PASSWORD/m);
    expect(javaPids()).toHaveLength(0);
  }, 60_000);
});
