/** The workflow's side of a job's life: one function per Task state of workflow/definition.ts.
 * Each reads the stored job and answers `{jobId, status, ...}` so the state machine can route; the
 * writes are the same conditional transitions admins use, so a step that lost a race is a no-op. */
import { createHash } from "node:crypto";
import * as z from "zod";
import { listPoolItems } from "../cluster/store";
import type { Core } from "../core";
import { NotFoundError } from "../errors";
import { fn, parseInput } from "../util/fn";
import { isId } from "../util/id";
import { ADMIN_WAIT_TIMEOUT_SECONDS } from "../workflow/definition";
import { autoApprovalReason, autoApproves } from "./approval-policy";
import { InvalidTransitionError } from "./errors";
import type { JobItem, JobStatus } from "./job";
import { getJobItem, parkTaskToken } from "./store";
import { SYSTEM_ACTOR, type TransitionRequest, transitionJob, WORKFLOW_ACTOR } from "./transitions";

const JobId = z.string().refine(isId, "must be a job id");
export const StepInput = z.object({ jobId: JobId });
export const ParkInput = z.object({ jobId: JobId, taskToken: z.string().min(1).max(2048) });

/** What every step answers; `status` is the job's stored status after the step. */
export interface StepResult {
  jobId: string;
  status: JobStatus;
}

async function readJob(core: Core, jobId: string): Promise<JobItem> {
  const job = await getJobItem(core.db, jobId, true);
  if (!job) throw new NotFoundError(`Job ${jobId} not found`);
  return job;
}

/** Runs a transition; when another writer got there first, answers the status it left instead. */
async function transitionIfStill(core: Core, jobId: string, request: TransitionRequest): Promise<StepResult> {
  try {
    const { job } = await transitionJob(core, jobId, request);
    return { jobId, status: job.status };
  } catch (error) {
    if (error instanceof InvalidTransitionError) return { jobId, status: error.currentStatus };
    throw error;
  }
}

/** ApplyApprovalPolicy: approves a PENDING job the policy covers; answers the job's status. */
export const applyApprovalPolicy = fn(StepInput, async ({ jobId }, core: Core): Promise<StepResult> => {
  const job = await readJob(core, jobId);
  if (job.status !== "PENDING" || !autoApproves(core, job)) return { jobId, status: job.status };
  return transitionIfStill(core, jobId, {
    action: "approve",
    from: ["PENDING"],
    to: "APPROVED",
    actor: SYSTEM_ACTOR,
    reason: autoApprovalReason(core),
  });
});

/**
 * AwaitApproval / AwaitStart: parks the callback token on the job while it is still `waitingIn`;
 * the admin action that moves the job on completes the token. If the job has already moved on
 * (an action raced ahead of this step), completes the token itself with the current status.
 */
export async function parkUntilMovedOn(core: Core, event: unknown, waitingIn: "PENDING" | "APPROVED") {
  const { jobId, taskToken } = parseInput(ParkInput, event);
  const result = await parkTaskToken(core.db, jobId, waitingIn, taskToken);
  if (result.parked) return { jobId, status: waitingIn, parked: true };
  if (!result.job) throw new NotFoundError(`Job ${jobId} not found`);
  await core.workflow.sendTaskSuccess(taskToken, { jobId, status: result.job.status });
  return { jobId, status: result.job.status, parked: false };
}

/** Whole seconds of simulated run still to go for a job that started at `startedAt`. */
export function remainingRuntimeSeconds(core: Core, job: Pick<JobItem, "estimatedHours" | "startedAt">): number {
  const totalMs = job.estimatedHours * core.config.simulation.secondsPerGpuHour * 1000;
  const elapsedMs = job.startedAt ? core.now().getTime() - Date.parse(job.startedAt) : 0;
  // Wait states take whole seconds; round up so a run never ends before its time.
  return Math.max(0, Math.ceil((totalMs - elapsedMs) / 1000));
}

/**
 * When the simulated run of a job that started at `startedAt` ends, as the Wait state's timestamp:
 * start + estimate, to the millisecond (a run lasts its estimate however late its execution resumed;
 * in AWS Step Functions truncates a Wait timestamp to the second). What is left is measured on
 * core's clock and the timestamp is on the engine's wall clock (the same clock but in tests that
 * move core's). Never before now.
 */
export function runEndsAt(core: Core, job: Pick<JobItem, "estimatedHours" | "startedAt">): string {
  const nowMs = core.now().getTime();
  const startMs = job.startedAt ? Date.parse(job.startedAt) : nowMs;
  const leftMs = Math.max(0, startMs + job.estimatedHours * core.config.simulation.secondsPerGpuHour * 1000 - nowMs);
  return new Date(Date.now() + leftMs).toISOString();
}

/** PlanGpuRuntime: for a RUNNING job, until when SimulateGpuRuntime waits (what is left after a restart, too). */
export const planRuntime = fn(StepInput, async ({ jobId }, core: Core) => {
  const job = await readJob(core, jobId);
  const running = job.status === "RUNNING";
  return {
    jobId,
    status: job.status,
    runtimeSeconds: running ? remainingRuntimeSeconds(core, job) : 0,
    runEndsAt: running ? runEndsAt(core, job) : core.now().toISOString(),
  };
});

const FAILURE_MESSAGES = [
  "CUDA error: out of memory",
  "Process exited with code 137 (killed: host memory exhausted)",
  "NCCL error: unhandled system error (peer GPU lost)",
  "Xid 79: GPU has fallen off the bus",
  "Loss became NaN at step 4120; aborted by the training script",
];

/** A number in [0, 1) fixed by the job id, so a job's simulated outcome is reproducible. */
export function outcomeDraw(jobId: string): number {
  return createHash("sha256").update(`outcome:${jobId}`).digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * DrawOutcome: COMPLETED with probability 1 − SIMULATION_FAILURE_RATE, else FAILED with a message.
 * A function of the job id alone, so it reads nothing (the recording step that follows is
 * conditional on the job still RUNNING); `status` is the one the run was planned for.
 */
export const drawOutcome = fn(StepInput, async ({ jobId }, core: Core) => {
  const draw = outcomeDraw(jobId);
  if (draw >= core.config.simulation.failureRate) return { jobId, status: "RUNNING" as const, outcome: "COMPLETED" as const };
  const errorMessage = FAILURE_MESSAGES[Math.floor(draw * 1e6) % FAILURE_MESSAGES.length]!;
  return { jobId, status: "RUNNING" as const, outcome: "FAILED" as const, errorMessage };
});

/** RecordCompletion: RUNNING → COMPLETED at its full simulated runtime; a job already ended stays as it is. */
export const recordCompletion = fn(
  StepInput,
  async ({ jobId }, core: Core): Promise<StepResult> =>
    transitionIfStill(core, jobId, {
      action: "complete",
      from: ["RUNNING"],
      to: "COMPLETED",
      actor: WORKFLOW_ACTOR,
      reason: "simulated run finished",
      runtime: "full",
    }),
);

export const RecordFailureInput = StepInput.extend({ errorMessage: z.string().min(1).max(2000) });

/** RecordFailure: RUNNING → FAILED with the drawn error; a job already ended stays as it is. */
export const recordFailure = fn(
  RecordFailureInput,
  async ({ jobId, errorMessage }, core: Core): Promise<StepResult> =>
    transitionIfStill(core, jobId, {
      action: "fail",
      from: ["RUNNING"],
      to: "FAILED",
      actor: WORKFLOW_ACTOR,
      reason: errorMessage,
      details: { errorMessage },
      runtime: "full",
    }),
);

export const ExpireWaitInput = StepInput.extend({ expectedStatus: z.enum(["PENDING", "APPROVED"]) });

/**
 * ExpireWait: the wait for an admin timed out. A job still waiting is cancelled (reservation
 * released); one that moved on meanwhile (its nudge was lost) just continues from its status. An
 * APPROVED job of a GPU type with pools waits for capacity, not for an admin: it is not cancelled,
 * and its execution parks again (RouteByStatus → AwaitStart).
 */
export const expireWait = fn(ExpireWaitInput, async ({ jobId, expectedStatus }, core: Core): Promise<StepResult> => {
  const days = ADMIN_WAIT_TIMEOUT_SECONDS / 86_400;
  if (expectedStatus === "APPROVED") {
    const job = await readJob(core, jobId);
    if (job.status !== "APPROVED") return { jobId, status: job.status };
    if ((await listPoolItems(core.db, job.gpuType)).length) return { jobId, status: job.status };
  }
  return transitionIfStill(core, jobId, {
    action: "expire",
    from: [expectedStatus],
    to: "CANCELLED",
    actor: WORKFLOW_ACTOR,
    reason: `expired: no admin ${expectedStatus === "PENDING" ? "approval" : "start"} within ${days} days`,
  });
});

/**
 * "Type: message" of a caught step error, for the job's history. In AWS the Cause of a Lambda error
 * is JSON with errorType, errorMessage and a stack trace; the trace stays in the logs, never in
 * what the job's owner reads.
 */
export function describeStepError(error?: { Error?: string; Cause?: unknown }): string {
  const name = error?.Error ?? "Error";
  const cause = error?.Cause;
  if (typeof cause !== "string") return cause === undefined ? name : `${name}: ${JSON.stringify(cause)}`;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (parsed && typeof parsed === "object" && typeof parsed.errorMessage === "string") {
      return `${typeof parsed.errorType === "string" ? parsed.errorType : name}: ${parsed.errorMessage}`;
    }
  } catch {
    // Not JSON: a plain message (the local interpreter's form).
  }
  return `${name}: ${cause}`;
}

export const ReleaseQuotaInput = StepInput.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.unknown().optional() }).optional(),
});

/**
 * ReleaseQuota (the failure path): a step failed after its retries, so the job is closed instead
 * of left open for ever: CANCELLED before it started (reservation released in full), FAILED while
 * running (settled to the time it ran). Answers `status: "MISSING"` for a job that does not exist.
 */
export const releaseQuota = fn(ReleaseQuotaInput, async ({ jobId, error }, core: Core) => {
  const detail = `workflow error (${describeStepError(error).slice(0, 500)})`;
  for (;;) {
    const job = await getJobItem(core.db, jobId, true);
    if (!job) return { jobId, status: "MISSING" as const };
    const request: TransitionRequest | undefined =
      job.status === "RUNNING"
        ? { action: "fail", from: ["RUNNING"], to: "FAILED", actor: WORKFLOW_ACTOR, reason: detail, details: { errorMessage: detail } }
        : job.status === "PENDING" || job.status === "APPROVED"
          ? { action: "cancel", from: [job.status], to: "CANCELLED", actor: WORKFLOW_ACTOR, reason: detail }
          : undefined;
    if (!request) return { jobId, status: job.status };
    const result = await transitionIfStill(core, jobId, request);
    if (result.status === request.to) return result;
    // Another writer moved it first; look again (it only ever moves forward, so this ends).
  }
});
