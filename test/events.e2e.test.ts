/** `npm start` with WEBHOOK_URL, as a user runs it: every job status change arrives at a webhook
 * receiver in order; a receiver that stops answering never holds up the API or Ctrl-C; a bad
 * WEBHOOK_URL is named at start. Real processes, as in local-stack.e2e.test.ts. */
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, localStackSandbox, MAIN } from "./support/local-stack";
import { eventually } from "./support/wait";

const sandbox = localStackSandbox("gpuaas-events-");
let server: Server;
let hookUrl = "";
const bodies: any[] = [];
/** While true, the receiver takes requests and never answers them. */
let hang = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      if (!hang) res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  sandbox.cleanup();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const post = async (url: string, body: unknown, token?: string) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe("npm start with WEBHOOK_URL", () => {
  it("POSTs each job status change in order; a hung receiver slows neither the API nor Ctrl-C", async () => {
    const stack = await sandbox.startStack({ launcher: "node", env: { WEBHOOK_URL: hookUrl, SIMULATION_SECONDS_PER_HOUR: "3600" } });
    expect(stack.output()).toContain(`events:      POSTed to ${hookUrl}`);
    const api = `${stack.url}/api/v1`;
    await post(`${api}/auth/register`, { email: "hook@example.com", password: "hook password", fullName: "H" });
    const user = (await post(`${api}/auth/login`, { email: "hook@example.com", password: "hook password" })).body.accessToken;
    const admin = (await post(`${api}/auth/login`, { email: "admin@gpuaas.local", password: ADMIN_PASSWORD })).body.accessToken;
    const job = (
      await post(`${api}/jobs`, { name: "j", image: "img", command: "run", gpuType: "T4", gpuCount: 1, estimatedHours: 1 }, user)
    ).body;
    expect((await post(`${api}/admin/jobs/${job.id}/approve`, {}, admin)).status).toBe(200);

    const ofJob = (id: string) => bodies.filter((b) => b.detail?.jobId === id);
    await eventually("PENDING and APPROVED at the webhook", () => ofJob(job.id).length >= 2, 15_000, 100);
    expect(ofJob(job.id).map((b) => [b["detail-type"], b.detail.status])).toEqual([
      ["Job Status Change", "PENDING"],
      ["Job Status Change", "APPROVED"],
    ]);

    // The receiver stops answering: deliveries hang, the API does not.
    hang = true;
    const t0 = Date.now();
    const second = await post(
      `${api}/jobs`,
      { name: "k", image: "img", command: "run", gpuType: "T4", gpuCount: 1, estimatedHours: 1 },
      user,
    );
    expect(second.status).toBe(201);
    expect((await post(`${api}/jobs/${second.body.id}/cancel`, {}, user)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    await eventually("a delivery to be in flight", () => ofJob(second.body.id).length > 0, 15_000, 100);

    const stopping = Date.now();
    stack.child.kill("SIGINT");
    expect(await stack.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(6000);
    await eventually("Java to stop", () => sandbox.javaPids().length === 0, 10_000, 200);
  }, 120_000);

  it("names a WEBHOOK_URL that is not an http(s) URL and starts nothing", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN], {
      env: { ...process.env, DATA_DIR: join(sandbox.root, "badhook"), PORT: "0", WEBHOOK_URL: "ftp://example.com/hook" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^Invalid configuration: .*WEBHOOK_URL/m);
    expect(sandbox.javaPids()).toHaveLength(0);
  }, 60_000);
});
