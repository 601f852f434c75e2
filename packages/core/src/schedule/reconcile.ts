/** The reconciler (issue 9): a scheduled sweep that repairs what a crash between a commit and its
 * follow-up can leave behind, and logs every repair. Admission, cascades and workflow starts are
 * event-driven and best effort after their commits; this is their safety net:
 * 1. an open job whose dependency ended REJECTED / FAILED / CANCELLED is cancelled (the cascade
 *    that should have done it was cut short);
 * 2. an open job whose execution is not running gets one: started (locally, or in AWS when its
 *    start after submission failed), or — when its execution ended while the job stayed open, and
 *    in AWS its name cannot be reused — the job is closed (FAILED if it was running, else
 *    CANCELLED), releasing its quota and capacity;
 * 3. admission runs for every GPU type that has pools (an APPROVED job beside free room), through the
 *    same coalescing loop the stream's reactions use;
 * 4. an execution still parked on a task token the job's last transition answered (the answer,
 *    a reaction, was lost) is answered again;
 * 5. the queue index is made whole: missing entries restored, entries of an older layout rewritten,
 *    approved jobs whose dependencies all completed queued.
 * Idempotent: every repair is a conditional transition, an idempotent start or answer. It calls the
 * same functions the reactions call. */
import { requestAdmission } from "../admission/loop";
import { deleteQueueEntryItem, listQueueJobIds, promoteItems, restoreQueueEntryItems } from "../admission/queue";
import { dependenciesDone } from "../admission/readiness";
import { GPU_TYPES } from "../catalog/catalog";
import { listPoolItems } from "../cluster/store";
import type { Core } from "../core";
import { TransactionCancelled, transactWrite } from "../db/transact";
import { cancelDependentsOf } from "../job/cascade";
import { InvalidTransitionError } from "../job/errors";
import { endedUnsuccessfully, isOpen, type JobItem, OPEN_STATUSES } from "../job/job";
import { getJobItem, getJobItems, listJobItemsSharded, type ShardPositions } from "../job/store";
import { SYSTEM_ACTOR, transitionJob } from "../job/transitions";
import { ExecutionEndedError, TaskNotWaitingError } from "../workflow/port";

const PAGE = 100;

export interface ReconcileReport {
  openJobsChecked: number;
  /** Open jobs cancelled because a dependency had ended unsuccessfully. */
  dependentsCancelled: string[];
  /** Open jobs whose execution was (re)started. */
  executionsEnsured: number;
  /** Executions answered again: still parked on a token the job's last transition answered. */
  tasksAnsweredAgain: number;
  /** Open jobs closed because their execution had ended. */
  jobsClosed: string[];
  /** Jobs started by admission. */
  admitted: string[];
  /** Queue-index entries restored (jobs from before the index, or a write that never landed). */
  queueEntriesRestored: number;
  /** The sweep of open jobs ran out of its time budget (the next run sweeps again). */
  sweepCutShort: boolean;
  failures: number;
}

/** The sweep of open jobs stops starting new checks after this long, so admission (first and
 * last) always runs within the Lambda's timeout; the next run sweeps again from the start. */
const SWEEP_BUDGET_MS = 150_000;

export async function reconcile(core: Core, options: { sweepBudgetMs?: number } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    openJobsChecked: 0,
    dependentsCancelled: [],
    executionsEnsured: 0,
    tasksAnsweredAgain: 0,
    jobsClosed: [],
    admitted: [],
    queueEntriesRestored: 0,
    sweepCutShort: false,
    failures: 0,
  };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      report.failures++;
      core.log.warn("reconciler step failed", { what, error });
    }
  };

  const admitAll = async () => {
    for (const gpuType of GPU_TYPES) {
      await attempt(`admission ${gpuType}`, async () => {
        if ((await listPoolItems(core.db, gpuType)).length) report.admitted.push(...(await requestAdmission(core, gpuType)));
      });
    }
  };
  // Cheap (a Query per GPU type) and what most repairs come down to: first, whatever the sweep costs.
  await admitAll();

  const deadline = Date.now() + (options.sweepBudgetMs ?? SWEEP_BUDGET_MS);
  /** APPROVED jobs and pool-holding RUNNING jobs: each must have its queue-index entry. */
  const open: JobItem[] = [];
  sweep: for (const status of OPEN_STATUSES) {
    let positions: ShardPositions | undefined;
    do {
      const page = await listJobItemsSharded(core.db, { status, limit: PAGE, positions });
      positions = page.positions;
      report.openJobsChecked += page.items.length;
      open.push(...page.items.filter((j) => j.status === "APPROVED" || (j.status === "RUNNING" && j.allocation)));
      await attempt("dependencies", () => cancelForFailedDependencies(core, page.items, report));
      for (const job of page.items) {
        if (Date.now() > deadline) {
          report.sweepCutShort = true;
          break sweep;
        }
        if (report.dependentsCancelled.includes(job.id)) continue;
        await attempt(`execution of ${job.id}`, () => ensureExecution(core, job, report));
      }
    } while (positions);
  }

  await attempt("queue index", () => restoreQueueEntries(core, open, report));
  // Again: jobs whose entry was restored, or whose dependents were cancelled, may start now.
  await admitAll();

  const repaired = report.dependentsCancelled.length + report.jobsClosed.length + report.admitted.length + report.queueEntriesRestored;
  core.log[repaired || report.failures ? "warn" : "info"]("reconciler done", { ...report });
  return report;
}

/** Cancels the open dependents of dependencies that ended unsuccessfully (as their cascade would have). */
async function cancelForFailedDependencies(core: Core, jobs: JobItem[], report: ReconcileReport) {
  const waiting = jobs.filter((j) => j.status !== "RUNNING" && j.dependsOn.length);
  if (!waiting.length) return;
  const deps = await getJobItems(core.db, [...new Set(waiting.flatMap((j) => j.dependsOn))]);
  const failed = [...deps.values()].filter((d) => endedUnsuccessfully(d.status));
  for (const dep of failed) {
    const cancelled = await cancelDependentsOf(core, dep, { transitive: true });
    if (cancelled.length)
      core.log.warn("reconciler cancelled dependents of an unsuccessful job", { jobId: dep.id, status: dep.status, cancelled });
    report.dependentsCancelled.push(...cancelled);
  }
}

/** How long an answered token may look unanswered before the reconciler answers it again. */
const ANSWER_GRACE_MS = 60_000;

/**
 * Whether the job's execution looks parked on the token its last transition answered: an APPROVED
 * job with no start token parked a while after its approval, or a RUNNING job well past the end of
 * its simulated run (its execution, once resumed, would have ended it).
 */
function stillParked(core: Core, job: JobItem): boolean {
  if (!job.answeredToken) return false;
  const nowMs = core.now().getTime();
  if (job.status === "APPROVED") return !job.taskToken && nowMs - Date.parse(job.updatedAt) > ANSWER_GRACE_MS;
  if (job.status !== "RUNNING" || !job.startedAt) return false;
  const endMs = Date.parse(job.startedAt) + job.estimatedHours * core.config.simulation.secondsPerGpuHour * 1000;
  return nowMs - Math.max(endMs, Date.parse(job.updatedAt)) > ANSWER_GRACE_MS;
}

/** Makes sure an open job has a running execution, or closes it when its execution is gone for good. */
async function ensureExecution(core: Core, listed: JobItem, report: ReconcileReport) {
  const execution = await core.workflow.describe(listed.id);
  if (execution?.status === "RUNNING") {
    if (!stillParked(core, listed)) return;
    try {
      await core.workflow.sendTaskSuccess(listed.answeredToken!, { jobId: listed.id, status: listed.status });
      report.tasksAnsweredAgain++;
      core.log.warn("reconciler answered a task its job's transition had answered", { jobId: listed.id, status: listed.status });
    } catch (error) {
      if (!(error instanceof TaskNotWaitingError)) throw error;
    }
    return;
  }
  // The sweep's page is an index read from before the describe: a job that ended meanwhile (its
  // execution SUCCEEDED with it) is not a job left without one.
  const job = await getJobItem(core.db, listed.id, true);
  if (!job || !isOpen(job.status)) return;
  try {
    await core.workflow.startJob(job.id);
    report.executionsEnsured++;
    core.log.warn("reconciler started the execution of an open job", {
      jobId: job.id,
      status: job.status,
      had: execution?.status ?? "none",
    });
  } catch (error) {
    if (!(error instanceof ExecutionEndedError)) throw error;
    const reason = `its lifecycle execution ended (${execution?.status ?? "unknown"}) while the job was ${job.status}; closed by the reconciler`;
    try {
      await transitionJob(
        core,
        job.id,
        job.status === "RUNNING"
          ? {
              action: "fail",
              from: ["RUNNING"],
              to: "FAILED",
              actor: SYSTEM_ACTOR,
              reason,
              details: { errorMessage: reason },
              runtime: "elapsed",
            }
          : { action: "cancel", from: ["PENDING", "APPROVED"], to: "CANCELLED", actor: SYSTEM_ACTOR, reason },
      );
      report.jobsClosed.push(job.id);
      core.log.warn("reconciler closed a job whose execution had ended", { jobId: job.id, status: job.status });
    } catch (closeError) {
      // It moved on by itself meanwhile: nothing to repair.
      if (!(closeError instanceof InvalidTransitionError)) throw closeError;
    }
  }
}

/** Restores the queue-index entry of every APPROVED or pool-holding RUNNING job that lacks one (an
 * APPROVED job whose dependencies are all COMPLETED goes to WAIT#, else HOLD#), moves ready jobs
 * from HOLD# to WAIT#, and rewrites entries of an older layout. */
async function restoreQueueEntries(core: Core, jobs: JobItem[], report: ReconcileReport) {
  for (const gpuType of new Set(jobs.map((j) => j.gpuType))) {
    const ids = await listQueueJobIds(core.db, gpuType);
    for (const key of ids.outdated) await transactWrite(core.db, [deleteQueueEntryItem(core.db, key)]);
    const waiting = new Set(ids.waiting);
    const held = new Set(ids.held);
    const indexed = new Set([...ids.waiting, ...ids.held, ...ids.running]);
    for (const job of jobs.filter(
      (j) => j.gpuType === gpuType && (!indexed.has(j.id) || (j.status === "APPROVED" && !waiting.has(j.id))),
    )) {
      const ready = job.status === "APPROVED" && (await dependenciesDone(core, job));
      if (indexed.has(job.id) && !ready) continue; // held, and rightly so
      const items = ready && held.has(job.id) ? promoteItems(core.db, job) : restoreQueueEntryItems(core.db, job, ready);
      if (!items) continue;
      try {
        await transactWrite(core.db, items);
        report.queueEntriesRestored++;
        core.log.warn("reconciler restored a queue-index entry", { jobId: job.id, status: job.status, ready });
      } catch (error) {
        // The job moved on since it was read: it needs no entry any more.
        if (!(error instanceof TransactionCancelled)) throw error;
      }
    }
  }
}
