/** Job lifecycle over HTTP: submit, admin actions, cancel, reads, and waiting for the workflow. */

import type { Hono } from "hono";
import type { LocalWorkflowEngine } from "../../packages/local/src/workflow-engine";
import { call, validJob } from "./http";
import { eventually } from "./wait";

type AnyApp = Pick<Hono<any>, "request">;

export type AdminAction = "approve" | "reject" | "start" | "complete" | "fail";

export function lifecycleApi(app: AnyApp, engine: LocalWorkflowEngine) {
  const api = {
    async submit(token: string, overrides: Record<string, unknown> = {}) {
      const res = await call(app, "POST", "/api/v1/jobs", { token, body: validJob(overrides) });
      if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as { id: string; status: string; [k: string]: any };
    },
    act: (token: string, jobId: string, action: AdminAction, body?: unknown) =>
      call(app, "POST", `/api/v1/admin/jobs/${jobId}/${action}`, { token, body }),
    cancel: (token: string, jobId: string, body?: unknown) => call(app, "POST", `/api/v1/jobs/${jobId}/cancel`, { token, body }),
    async job(token: string, jobId: string) {
      return (await call(app, "GET", `/api/v1/jobs/${jobId}`, { token })).body;
    },
    async events(token: string, jobId: string) {
      return (await call(app, "GET", `/api/v1/jobs/${jobId}/events`, { token })).body.items as {
        status: string;
        actor: string;
        reason?: string;
        at: string;
      }[];
    },
    async quota(token: string) {
      return (await call(app, "GET", "/api/v1/me", { token })).body.quota;
    },
    /** Waits until the job has `status` in storage. */
    untilStatus: (token: string, jobId: string, status: string, timeoutMs?: number) =>
      eventually(
        `job ${jobId} to be ${status}`,
        async () => {
          const job = await api.job(token, jobId);
          return job.status === status ? job : undefined;
        },
        timeoutMs,
      ),
    /** Waits until the job's execution is parked on a task token (waiting for an admin). */
    untilWaiting: (jobId: string) => eventually(`job ${jobId}'s workflow to wait for an admin`, () => engine.isWaiting(jobId)),
    /** Waits until the job's execution is in `state`. */
    untilInState: (jobId: string, state: string) =>
      eventually(`job ${jobId}'s workflow to enter ${state}`, async () => (await engine.describe(jobId))?.currentState === state),
    /** Waits until the job's execution has ended and returns it. */
    async executionEnded(jobId: string) {
      await engine.settled(jobId);
      return (await engine.describe(jobId))!;
    },
  };
  return api;
}
