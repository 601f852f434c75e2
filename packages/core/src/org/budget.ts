/** Org budgets: the monthly budget, the month-to-date spend (settled costs + estimates of open
 * jobs) committed in the submission transaction, its settlement when a job ends, and the 80 % /
 * 100 % alerts recorded once per threshold per month. */
import { auditEntry } from "../audit/audit";
import { auditEntryItem } from "../audit/store";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { type TransactItem, Transaction, TransactionCancelled, transactWrite } from "../db/transact";
import { ContentionError, ForbiddenError } from "../errors";
import type { JobItem } from "../job/job";
import { periodOf } from "../quota/quota";
import { parseInput } from "../util/fn";
import { formatUsd, type Micros } from "../util/money";
import { orgAccess, ownedOrg } from "./access";
import { ALERT_THRESHOLDS, SetBudgetInput, toAlert, toSpend } from "./org";
import {
  adjustSpendItem,
  commitSpendItem,
  getOrgItem,
  getSpendItem,
  listAlertItems,
  membershipCheck,
  orgBudgetCheck,
  putAlertItemOnce,
  putOrgJobItem,
  setOrgBudgetItem,
  setSpendBudgetItem,
} from "./store";

/** Sets the org's monthly budget (owner only); this month's spend is measured against it at once. */
export async function setOrgBudget(core: Core, actor: Actor, orgId: string, rawInput: unknown) {
  const input = parseInput(SetBudgetInput, rawInput);
  const usd = (micros: Micros | undefined) => (micros === undefined ? null : formatUsd(micros));
  for (let attempt = 1; ; attempt++) {
    const org = await ownedOrg(core, actor, orgId, "set its budget");
    const at = core.now().toISOString();
    const period = periodOf(core.now());
    const before = org.monthlyBudgetMicros;
    try {
      await transactWrite(
        core.db,
        new Transaction()
          // The budget must still be the one read, so the trail's `before` is the value replaced.
          .add("org", setOrgBudgetItem(core.db, orgId, input.monthlyUsd, at, before))
          .add("spend", setSpendBudgetItem(core.db, { orgId, period, budgetMicros: input.monthlyUsd, at }))
          .add(
            "audit",
            auditEntryItem(
              core.db,
              auditEntry(
                actor,
                {
                  action: "org.budget",
                  target: { kind: "org", id: orgId },
                  before: { monthlyUsd: usd(before) },
                  after: { monthlyUsd: usd(input.monthlyUsd) },
                },
                at,
              ),
            ),
          ),
      );
    } catch (error) {
      if (!(error instanceof TransactionCancelled) || !error.failed("org")) throw error;
      if (attempt === 3) throw new ContentionError("The budget kept changing; please retry");
      continue; // set concurrently: read it again
    }
    // A lower budget can put the spend past a threshold: the reaction to the spend item records the alert.
    return toSpend(orgId, period, await getSpendItem(core.db, orgId, period, true), input.monthlyUsd);
  }
}

/** The org's budget alerts, oldest first (its owner and admins). */
export async function listOrgAlerts(core: Core, actor: Actor, orgId: string) {
  const { role } = await orgAccess(core, actor, orgId);
  if (role !== "owner" && actor.role !== "admin") throw new ForbiddenError("Only the org's owner can read its alerts");
  return { items: (await listAlertItems(core.db, orgId)).map(toAlert) };
}

export interface OrgSubmission {
  /** Its transaction items by part: the caller adds each under its own name. */
  membership: TransactItem;
  budgetUnchanged: TransactItem;
  spend: TransactItem;
  orgJob: TransactItem;
  budgetMicros?: Micros;
}

/**
 * What an org job's submission adds to its transaction: the submitter must be a member, the org's
 * budget must still be the one read here (so a month's spend opens at the right budget), and the
 * estimate is committed to the month's spend, failing when it does not fit what is left.
 */
export async function orgSubmission(
  core: Core,
  p: { orgId: string; userId: string; jobId: string; period: string; micros: Micros; at: string },
): Promise<OrgSubmission> {
  const org = await getOrgItem(core.db, p.orgId, true);
  const budgetMicros = org?.monthlyBudgetMicros;
  return {
    budgetMicros,
    membership: membershipCheck(core.db, p.userId, p.orgId),
    budgetUnchanged: orgBudgetCheck(core.db, p.orgId, budgetMicros),
    spend: commitSpendItem(core.db, { orgId: p.orgId, period: p.period, micros: p.micros, budgetMicros, at: p.at }),
    orgJob: putOrgJobItem(core.db, { orgId: p.orgId, jobId: p.jobId, ownerId: p.userId, createdAt: p.at }),
  };
}

/**
 * A terminal transition's spend effect for an org job: the month's spend moves from the job's
 * estimate to its actual cost (0 when it never ran). Nothing for other jobs and transitions.
 */
export function orgSpendSettlementItems(core: Core, before: JobItem, changes: Partial<JobItem>, at: string): TransactItem[] {
  if (!before.orgId || !before.budgetPeriod || changes.finishedAt === undefined) return [];
  const deltaMicros = (changes.actualCostMicros ?? 0) - before.estimatedCostMicros;
  if (deltaMicros === 0) return [];
  return [adjustSpendItem(core.db, { orgId: before.orgId, period: before.budgetPeriod, deltaMicros, at })];
}

/**
 * Records every threshold the org's spend in `period` has reached and that has no alert yet.
 * A reaction to each change of the month's spend item (a submission raising it, a budget lowered);
 * the conditional Put records each alert once however often it runs.
 */
export async function recordBudgetAlerts(core: Core, orgId: string, period: string): Promise<void> {
  const spend = await getSpendItem(core.db, orgId, period, true);
  const budget = spend?.budgetMicros;
  if (!spend || budget === undefined) return;
  const at = core.now().toISOString();
  for (const threshold of ALERT_THRESHOLDS) {
    if (spend.committedMicros * 100 < threshold * budget) continue;
    await putAlertItemOnce(core.db, { orgId, period, threshold, spendMicros: spend.committedMicros, budgetMicros: budget, at });
  }
}
