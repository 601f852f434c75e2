/** Whole-API tests: the app's own route table as "METHOD path" keys (so a test can insist that
 * every route is covered), and jobs put into any lifecycle status for those routes to act on. */

import type { Hono } from "hono";
import type { JobStatus } from "../../packages/core/src/job/job";
import type { LocalWorkflowEngine } from "../../packages/local/src/workflow-engine";
import { type AdminAction, lifecycleApi } from "./lifecycle";

/** Every route `app` serves as "METHOD path", sorted; middleware (method ALL) is left out. */
export function routeKeys(app: Pick<Hono<any>, "routes">): string[] {
  return [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].sort();
}

/** The method and concrete path of route `key`, with `id` in place of `:id`. */
export function requestLine(key: string, id = "") {
  const [method, path] = key.split(" ") as [string, string];
  return { method, path: path.replace(":id", id) };
}

/** The admin step(s) from a new PENDING job to each status; CANCELLED is the owner's own cancel. */
const STEPS: Record<JobStatus, [action: AdminAction | "cancel", body?: unknown][]> = {
  PENDING: [],
  APPROVED: [["approve"]],
  RUNNING: [["approve"], ["start"]],
  COMPLETED: [["approve"], ["start"], ["complete"]],
  FAILED: [["approve"], ["start"], ["fail", { errorMessage: "fixture" }]],
  REJECTED: [["reject", { reason: "fixture" }]],
  CANCELLED: [["cancel"]],
};

/** Where each open status's execution rests until someone acts. */
const RESTING_STATE: Partial<Record<JobStatus, string>> = {
  PENDING: "AwaitApproval",
  APPROVED: "AwaitStart",
  RUNNING: "SimulateGpuRuntime",
};

/**
 * Makes jobs in a given status through the API. The app's simulated runs must take their time
 * (SIMULATION_SECONDS_PER_HOUR of 3600 or so), or a RUNNING job would end on its own. Each job is
 * returned once its workflow rests: parked for an admin, simulating its run, or ended.
 */
export function jobMaker(app: Pick<Hono<any>, "request">, engine: LocalWorkflowEngine, adminToken: string) {
  const api = lifecycleApi(app, engine);
  return async function jobIn(ownerToken: string, status: JobStatus, overrides: Record<string, unknown> = {}): Promise<string> {
    const { id } = await api.submit(ownerToken, overrides);
    for (const [action, body] of STEPS[status]) {
      const res = action === "cancel" ? await api.cancel(ownerToken, id) : await api.act(adminToken, id, action, body);
      if (res.status !== 200) throw new Error(`${action} of fixture job failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const resting = RESTING_STATE[status];
    if (resting) await api.untilInState(id, resting);
    if (status === "PENDING" || status === "APPROVED") await api.untilWaiting(id);
    if (!resting) await engine.settled(id);
    return id;
  };
}
