/** Job submission: the job, its first event, the quota reservation and the idempotency record
 * are written in ONE transaction, so concurrent submissions can never overrun a quota. */
import { canEverFit, demandOf, eligiblePools, largestPool } from "../admission/placement";
import { queueIndexItems } from "../admission/queue";
import { activeUser, checkAccount as checkAccountItem } from "../auth/access";
import type { Actor } from "../auth/token";
import { recentPoolItems } from "../cluster/store";
import type { Core } from "../core";
import { type CancellationReason, type TransactItem, Transaction, TransactionCancelled, transactWrite } from "../db/transact";
import {
  BudgetExceededError,
  ContentionError,
  DependencyFailedError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NeverFitsError,
  NotFoundError,
  OpenJobsLimitError,
  QuotaExceededError,
  TooManyAttemptsError,
  ValidationError,
} from "../errors";
import {
  getIdempotencyItem,
  type IdempotencyItem,
  IdempotencyKeySchema,
  isLive,
  putIdempotencyItem,
  requestHash,
} from "../idempotency/idempotency";
import { orgSubmission } from "../org/budget";
import { periodOf } from "../quota/quota";
import { formAt, type RateForm, rateForm } from "../quota/rate";
import { openingLimitMilli } from "../quota/service";
import { reserveOpenQuotaItem, reserveQuotaItem, submissionLimitsItem } from "../quota/store";
import { activeUserCheck } from "../user/store";
import type { UserItem } from "../user/user";
import { parseInput } from "../util/fn";
import { hoursToMilli } from "../util/hours";
import { newId } from "../util/id";
import { costMicros } from "../util/money";
import { autoApprovalReason, autoApproves } from "./approval-policy";
import { endedUnsuccessfully, type Job, type JobItem, SubmitJobInput, toJob } from "./job";
import {
  dependencyCheck,
  getJobItem,
  jobDependentItem,
  jobEventItem,
  jobItem,
  putJobDependentItem,
  putJobEventItem,
  putNewJobItem,
} from "./store";
import { SYSTEM_ACTOR } from "./transitions";
import { jobView, type Waiting, waitingFor } from "./views";

export interface SubmitResult {
  job: Job & { waiting?: Waiting };
  /** True when an Idempotency-Key matched an earlier submission and that job was returned. */
  replayed: boolean;
}

/**
 * Submits a job as `actor`. Throws ValidationError, QuotaExceededError (nothing written),
 * NotFoundError (a dependency is not the caller's job), DependencyFailedError (a dependency has
 * already ended REJECTED, FAILED or CANCELLED), IdempotencyKeyReusedError, and for an org
 * job ForbiddenError (not a member) or BudgetExceededError (the estimate does not fit the budget).
 */
export async function submitJob(core: Core, actor: Actor, rawInput: unknown, idempotencyKey?: string): Promise<SubmitResult> {
  // No read waits before the write when it can be avoided: the account is checked inside the
  // submission transaction (a ConditionCheck), the pools come from a list at most
  // POOL_LIST_MAX_AGE_MS old, and a quota month this process has seen open is reserved in directly
  // (the account's opening limit is needed only to open a month). Otherwise the reads overlap: the
  // account with the pools, or, with an Idempotency-Key, the account with the key's record (a replay
  // answers without writing, so the account is checked before it).
  const checkAccount = () => activeUser(core, actor);
  let input: SubmitJobInput;
  let key: string | undefined;
  try {
    input = parseInput(SubmitJobInput, rawInput);
    key = idempotencyKey === undefined ? undefined : parseInput(IdempotencyKeySchema.describe("Idempotency-Key"), idempotencyKey);
  } catch (error) {
    await checkAccount(); // a disabled account hears 403 whatever it sent
    throw error;
  }
  const hash = requestHash(input);
  const now = core.now();
  const period = periodOf(now);
  const month = openMonthKey(core, actor.userId, period);
  let user: UserItem | undefined = actor.account?.id === actor.userId && actor.account.active ? actor.account : undefined;
  if (key && !user) {
    const [account, earlier] = await Promise.allSettled([checkAccount(), getIdempotencyItem(core.db, actor.userId, key)]);
    user = settled(account); // in this order: a disabled account is refused before a replay
    const claimed = settled(earlier);
    if (claimed && isLive(claimed, now)) return replay(core, claimed, hash);
  } else if (key) {
    const claimed = await getIdempotencyItem(core.db, actor.userId, key);
    if (claimed && isLive(claimed, now)) return replay(core, claimed, hash);
  }
  const [account, pools] = await Promise.allSettled([user || openMonths.has(month) ? user : checkAccount(), poolPriceFor(core, input)]);
  user = settled(account);
  let poolPrice: number | undefined;
  try {
    poolPrice = settled(pools);
  } catch (error) {
    if (!user) await checkAccount();
    throw error;
  }
  const pricing =
    poolPrice !== undefined
      ? poolPrice
      : input.provider
        ? core.catalog.price(input.gpuType, input.provider)
        : core.catalog.cheapest(input.gpuType)?.pricePerGpuHourMicros;
  if (pricing === undefined) {
    if (!user) await checkAccount();
    throw new ValidationError(`provider: ${input.provider} does not offer ${input.gpuType} GPUs`, [
      { path: "provider", message: `does not offer ${input.gpuType}` },
    ]);
  }

  const at = now.toISOString();
  const reservedMilli = input.gpuCount * hoursToMilli(input.estimatedHours);
  // The auto-approve policy is applied by the submission itself: the job is written APPROVED and
  // joins its queue in this transaction (approval-policy.ts), so admission follows at once.
  const approved = autoApproves(core, { sensitive: input.sensitive, reservedMilli });
  const job = jobItem({
    id: newId(),
    ownerId: actor.userId,
    ...input,
    status: approved ? "APPROVED" : "PENDING",
    ...(approved ? { approvedAt: at, approvedBy: SYSTEM_ACTOR, updatedBy: SYSTEM_ACTOR } : {}),
    reservedMilli,
    quotaPeriod: period,
    ...(input.orgId ? { budgetPeriod: period } : {}),
    estimatedCostMicros: costMicros(pricing, input.gpuCount, hoursToMilli(input.estimatedHours)),
    pricePerGpuHourMicros: pricing,
    createdAt: at,
    updatedAt: at,
  });

  // An org job's budget check opens the month at the budget read here; when the budget changes
  // before the commit, the transaction fails on the org and is rebuilt from a new read.
  let budgetAttempts = 0;
  // The rate limit's form (quota/rate.ts): guessed from this process's last look at the user's
  // bucket; a wrong guess costs one more try, with the stored value the cancellation returns.
  let rate = guessRateForm(core, actor.userId);
  let rateAttempts = 0;
  for (;;) {
    const org = input.orgId
      ? await orgSubmission(core, { orgId: input.orgId, userId: actor.userId, jobId: job.id, period, micros: job.estimatedCostMicros, at })
      : undefined;
    // Each dependency: a ConditionCheck (exists, the caller's or their org's, not ended unsuccessfully)
    // and a dependents-index item; at most 2 × MAX_DEPENDENCIES (40) of the 100 items a transaction takes.
    const tx = new Transaction()
      .add(
        "quota",
        user
          ? reserveQuotaItem(core.db, { userId: actor.userId, period, milli: reservedMilli, limitIfNew: openingLimitMilli(core, user), at })
          : reserveOpenQuotaItem(core.db, { userId: actor.userId, period, milli: reservedMilli, at }),
      )
      .add("job", putNewJobItem(core.db, job))
      .add(
        "submitted",
        putJobEventItem(core.db, jobEventItem({ jobId: job.id, status: "PENDING", actor: actor.userId, reason: "submitted", at })),
      )
      .add("dependencies", ...input.dependsOn.map((dep) => dependencyCheck(core.db, dep, actor.userId, input.orgId)))
      .add("dependents", ...input.dependsOn.map((dep) => putJobDependentItem(core.db, jobDependentItem({ jobId: job.id, dependsOn: dep }))))
      .add("approval", ...(approved ? approvalItems(core, job, at) : []))
      .add(
        "idempotency",
        key ? putIdempotencyItem(core.db, { userId: actor.userId, key, requestHash: hash, jobId: job.id, now }) : undefined,
      )
      .add("membership", org?.membership)
      .add("orgBudget", org?.budgetUnchanged)
      .add("spend", org?.spend)
      .add("orgJob", org?.orgJob)
      // The transaction itself requires the account to exist and be active, read or not: an account
      // disabled after a read made by this request cannot slip a job in (one item, no round trip).
      .add("account", activeUserCheck(core.db, actor.userId, actor.sessionVersion))
      .add("limits", submissionLimitsItem(core.db, actor.userId, core.config.maxOpenJobsPerUser, rate));

    try {
      await transactWrite(core.db, tx);
      rememberOpenMonth(month);
      break;
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      // First: a missing or disabled account is refused before anything else is answered (read, in
      // case the cancellation did not report every failed condition).
      const account = error.failed("account");
      if (account) checkAccountItem(account.item as UserItem | undefined, actor.sessionVersion);
      if (!user) {
        user = await checkAccount();
        // The month was not open yet: it opens at the account's limit, now known; write again.
        if (error.failed("quota") && !error.failed("quota")!.item) continue;
      }
      // A concurrent request with the same key won the race: answer as its retry would be answered.
      const claimed = error.failed("idempotency")?.item;
      if (claimed) return replay(core, claimed as unknown as IdempotencyItem, hash);
      if (error.failed("membership")) throw new ForbiddenError(`orgId: you are not a member of org ${input.orgId}`);
      const limits = error.failed("limits");
      if (limits) {
        const stored = limits.item as { open?: number; tat?: number } | undefined;
        if ((stored?.open ?? 0) >= core.config.maxOpenJobsPerUser) {
          throw new OpenJobsLimitError(
            `You have ${core.config.maxOpenJobsPerUser} jobs open (PENDING, APPROVED or RUNNING), the most allowed; wait for some to end or cancel some`,
          );
        }
        const next = rateForm(core.config.submitRate, stored?.tat, core.now().getTime());
        if ("retryAfterSeconds" in next) {
          if (stored?.tat !== undefined) rememberTat(actor.userId, stored.tat);
          throw new TooManyAttemptsError(
            `Too many submissions: at most ${core.config.submitRate.burst} at once and ${core.config.submitRate.ratePerSecond} per second after that`,
            next.retryAfterSeconds,
          );
        }
        // The other form was the right one (or the bucket moved meanwhile): once more.
        if (++rateAttempts < 8) {
          rate = next;
          continue;
        }
        throw new ContentionError("Too many concurrent submissions; please retry");
      }
      if (error.failed("orgBudget")) {
        if (++budgetAttempts < 3) continue;
        throw new ContentionError("The org's budget kept changing; please retry");
      }
      if (error.failed("quota")) {
        throw new QuotaExceededError(`Not enough GPU-hours left in ${period} for ${reservedMilli / 1000} GPU-hours (see GET /api/v1/me)`);
      }
      if (error.failed("spend")) {
        throw new BudgetExceededError(
          `The estimate of ${toJob(job).estimatedCostUsd} USD does not fit in what is left of org ${input.orgId}'s budget for ${period}`,
        );
      }
      const dependencyChecks = error.failedEach("dependencies");
      const dependencyError = dependencyFailure(input.dependsOn, (i) => dependencyChecks[i], actor.userId, input.orgId);
      if (dependencyError) throw dependencyError;
      throw error;
    }
  }
  // Committed: the job's execution starts, admission runs, and the org's budget alerts are recorded,
  // as reactions to the new items on the table's stream (reactions/). An approved job answers with
  // its place in the queue (the plan's, or planned from the bounded snapshot a pass reads).
  return { job: approved ? await jobView(core, job) : { ...toJob(job), waiting: waitingFor(job, new Map()) }, replayed: false };
}

/** An auto-approved submission's approval: its history event after the submission's, and its queue
 * entry (WAIT#, or HOLD# with dependencies: a reaction moves it once they have COMPLETED). */
function approvalItems(core: Core, job: JobItem, at: string): TransactItem[] {
  return [
    putJobEventItem(
      core.db,
      jobEventItem({ jobId: job.id, status: "APPROVED", actor: SYSTEM_ACTOR, reason: autoApprovalReason(core), at }),
    ),
    ...queueIndexItems(core.db, { ...job, status: "PENDING" }, "APPROVED", {}),
  ];
}

/**
 * The error for the failed dependency checks (`failed(i)`: the i-th check's cancellation, with the
 * job as it was). A missing dependency, or one not the caller's (or their org's), is 404 and is
 * reported first, so nothing is told about someone else's job; else 400 DEPENDENCY_FAILED naming
 * the dependencies that have already ended REJECTED, FAILED or CANCELLED.
 */
function dependencyFailure(
  dependsOn: string[],
  failed: (i: number) => CancellationReason | undefined,
  ownerId: string,
  orgId?: string,
): Error | undefined {
  const visible = (job: JobItem) => job.ownerId === ownerId || (orgId !== undefined && job.orgId === orgId);
  const checks = dependsOn.flatMap((id, i) => {
    const reason = failed(i);
    return reason ? [{ id, job: reason.item as JobItem | undefined }] : [];
  });
  const missing = checks.find(({ job }) => !job || !visible(job));
  if (missing) return new NotFoundError(`dependsOn: job ${missing.id} does not exist or is not yours (or your org's)`);
  const ended = checks.filter(({ job }) => job && endedUnsuccessfully(job.status)).map(({ id, job }) => ({ id, status: job!.status }));
  if (!ended.length) return undefined;
  return new DependencyFailedError(
    `dependsOn: ${ended.map((d) => `job ${d.id} has already ended ${d.status}`).join(", ")}, so this job could never start`,
    ended,
  );
}

/**
 * Checks the job against the capacity pools that could run it (its GPU type, provider, org, pinned
 * pool): with pools defined, a request bigger than the largest of them even empty is NEVER_FITS;
 * a pinned pool must be one of them. Returns the price the estimate uses: the highest per-GPU-hour
 * price among the pools it may end up on (the pinned one's, if pinned), so the job's actual cost,
 * charged at the pool it runs on, never exceeds its estimate (and an org budget committed to the
 * estimate holds). With no pool for the GPU type: undefined, and the catalog prices it as before.
 */
async function poolPriceFor(core: Core, input: SubmitJobInput): Promise<number | undefined> {
  const pools = eligiblePools(await recentPoolItems(core.db, input.gpuType), input);
  if (input.clusterId && !pools.length) {
    throw new ValidationError(
      `clusterId: ${input.clusterId} is not a pool this job may run on (it must exist, offer ${input.gpuType}${input.provider ? ` at ${input.provider}` : ""}, and be shared or your org's)`,
      [{ path: "clusterId", message: "not a pool this job may run on" }],
    );
  }
  if (pools.length && !canEverFit(pools, input)) {
    const largest = largestPool(pools)!;
    const demand = demandOf(input);
    throw new NeverFitsError(
      `This job can never run: it asks for ${demand.gpus} GPU(s)${input.cpu ? `, ${input.cpu} CPU` : ""}${input.ramGb ? `, ${input.ramGb} GB RAM` : ""}, ` +
        `and the largest ${input.gpuType} pool it may use, ${largest.name} (${largest.id}), has ${largest.totalGpus} GPUs, ${largest.totalCpu} CPU, ${largest.totalRamGb} GB RAM`,
    );
  }
  const prices = pools
    .filter((p) => canEverFit([p], input))
    .map((p) => core.catalog.price(p.gpuType, p.provider))
    .filter((price): price is number => price !== undefined);
  return prices.length ? Math.max(...prices) : undefined;
}

async function replay(core: Core, record: IdempotencyItem, hash: string): Promise<SubmitResult> {
  if (record.requestHash !== hash) {
    throw new IdempotencyKeyReusedError("This Idempotency-Key was already used with a different request body");
  }
  const job = await getJobItem(core.db, record.jobId, true);
  if (!job) throw new NotFoundError(`Job ${record.jobId} no longer exists`);
  return { job: await jobView(core, job), replayed: true };
}

/** Quota months (table, user, period) this process has seen open. A month once open stays open
 * (periods are never deleted), so this can only be incomplete, never wrong; bounded in size. */
const openMonths = new Set<string>();
const MAX_OPEN_MONTHS = 100_000;
const openMonthKey = (core: Core, userId: string, period: string) => `${core.db.table}#${userId}#${period}`;
function rememberOpenMonth(month: string) {
  if (openMonths.size >= MAX_OPEN_MONTHS) openMonths.clear();
  openMonths.add(month);
}

/** The value of a settled read, or its error thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

/** The last rate-limit time (TAT) this process wrote or saw per user, so the next submission's
 * first try writes the right form. Bounded; losing it only costs a retry. */
const lastTat = new Map<string, number>();
const MAX_REMEMBERED_RATES = 10_000;

function guessRateForm(core: Core, userId: string): RateForm {
  const nowMs = core.now().getTime();
  const guess = rateForm(core.config.submitRate, lastTat.get(userId), nowMs);
  // A refusal is decided by the stored value, not the guess: try the busy form, whose condition reports it.
  const form = "retryAfterSeconds" in guess ? formAt(core.config.submitRate, nowMs, "busy") : guess;
  // Counted at once, as if it will succeed: the user's concurrent submissions in this process then
  // guess "busy", which is what they will find (instead of all trying "idle" and all but one retrying).
  rememberTat(userId, (form.form === "idle" ? nowMs : (lastTat.get(userId) ?? nowMs)) + form.intervalMs);
  return form;
}

function rememberTat(userId: string, tatMs: number) {
  if (lastTat.size >= MAX_REMEMBERED_RATES) lastTat.clear();
  lastTat.set(userId, tatMs);
}
