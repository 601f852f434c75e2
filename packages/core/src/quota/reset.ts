/** The monthly quota reset (SPEC §7): opens the new month for every user at their standing limit
 * and carries the reservations of jobs still open into it; past months stay as history.
 *
 * Two phases, each resumable from the run's progress record (reset-run.ts):
 * 1. users: every user's period is opened, a page of users at a time (gsi1 `USERS`);
 * 2. jobs: every PENDING/APPROVED/RUNNING job still reserving in an earlier month has its
 *    reservation moved, one transaction per job, conditional on the job's `quotaPeriod`, so a job
 *    is carried once however often the reset runs or however it was interrupted.
 * Idempotent: a finished period answers from its record with one read. */
import type { Core } from "../core";
import { TransactionCancelled, transactWrite } from "../db/transact";
import { type JobItem, OPEN_STATUSES } from "../job/job";
import { listJobItemsSharded, type ShardPositions } from "../job/store";
import { getUserItem, listUserItems } from "../user/store";
import { periodOf } from "./quota";
import { advanceResetRunItem, getResetRunItem, type ResetRunItem, startResetRunItem } from "./reset-run";
import { openingLimitMilli } from "./service";
import { carryReservationItems, openQuotaPeriod } from "./store";

const USERS_PER_PAGE = 100;
const JOBS_PER_PAGE = 100;
/** Writes in flight at once within a page. */
const CONCURRENCY = 8;

export interface ResetOptions {
  /** The period to open ("YYYY-MM"); the current month by default. */
  period?: string;
  /** Stop (with `done: false`) once this much time has gone by; the next run continues. */
  timeBudgetMs?: number;
}

export interface ResetResult {
  period: string;
  done: boolean;
  phase: ResetRunItem["phase"];
  /** Totals of the whole reset of this period so far (across runs). */
  usersOpened: number;
  jobsCarried: number;
  startedAt: string;
  finishedAt?: string;
}

/** Runs (or continues) the reset of a period. Safe to run concurrently and repeatedly. */
export async function resetQuotas(core: Core, options: ResetOptions = {}): Promise<ResetResult> {
  const period = options.period ?? periodOf(core.now());
  const deadline = Date.now() + (options.timeBudgetMs ?? Number.POSITIVE_INFINITY);
  let run = (await getResetRunItem(core.db, period)) ?? (await startResetRunItem(core.db, period, core.now().toISOString()));

  while (run.phase !== "done" && Date.now() < deadline) {
    if (run.phase === "users") await openNextPageOfUsers(core, run);
    else await carryOpenJobs(core, run, deadline);
    run = (await getResetRunItem(core.db, period))!;
  }
  core.log.info("quota reset", { period, phase: run.phase, usersOpened: run.usersOpened, jobsCarried: run.jobsCarried });
  return {
    period,
    done: run.phase === "done",
    phase: run.phase,
    usersOpened: run.usersOpened,
    jobsCarried: run.jobsCarried,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

async function openNextPageOfUsers(core: Core, run: ResetRunItem) {
  const page = await listUserItems(core.db, USERS_PER_PAGE, run.afterUserId);
  const at = core.now().toISOString();
  const opened = await mapLimited(page.items, (user) =>
    openQuotaPeriod(core.db, { userId: user.id, period: run.period, limit: openingLimitMilli(core, user), at }),
  );
  const last = page.items.at(-1)?.id;
  await advanceResetRunItem(core.db, run, {
    phase: page.last ? "users" : "jobs",
    afterUserId: page.last ? last : run.afterUserId,
    usersOpened: opened.filter(Boolean).length,
    at,
  });
}

/** Carries every open job reserving in an earlier period; the pass is cheap to repeat. */
async function carryOpenJobs(core: Core, run: ResetRunItem, deadline: number) {
  let carried = 0;
  for (const status of OPEN_STATUSES) {
    let positions: ShardPositions | undefined;
    do {
      if (Date.now() >= deadline) {
        await advanceResetRunItem(core.db, run, {
          phase: "jobs",
          afterUserId: run.afterUserId,
          jobsCarried: carried,
          at: core.now().toISOString(),
        });
        return;
      }
      const page = await listJobItemsSharded(core.db, { status, limit: JOBS_PER_PAGE, positions });
      const behind = page.items.filter((job) => job.quotaPeriod < run.period);
      carried += (await mapLimited(behind, (job) => carryJob(core, job, run.period))).filter(Boolean).length;
      positions = page.positions;
    } while (positions);
  }
  await advanceResetRunItem(core.db, run, {
    phase: "done",
    afterUserId: run.afterUserId,
    jobsCarried: carried,
    at: core.now().toISOString(),
  });
}

/** Moves one job's reservation into `period`; false when it had already moved or closed. */
async function carryJob(core: Core, job: JobItem, period: string): Promise<boolean> {
  const owner = await getUserItem(core.db, job.ownerId);
  const limitIfNew = owner ? openingLimitMilli(core, owner) : 0;
  try {
    await transactWrite(core.db, carryReservationItems(core.db, job, { period, limitIfNew, at: core.now().toISOString() }));
    return true;
  } catch (error) {
    if (error instanceof TransactionCancelled && error.failedAt(0)) return false;
    throw error;
  }
}

/** `fn` over `items` with at most CONCURRENCY in flight, results in order. */
async function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
