/** What admins do with users and quotas: list users with this month's quota, set a user's
 * standing limit, and run the monthly reset by hand. */
import * as z from "zod";
import { auditEntry } from "../audit/audit";
import { recordRun } from "../audit/service";
import { auditEntryItem } from "../audit/store";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { TransactionCancelled, transactWrite } from "../db/transact";
import { ContentionError, ForbiddenError, LastAdminError, NotFoundError } from "../errors";
import { getUserItem, listActiveAdminIds, listUserItems, setAccessItems, setMonthlyLimitItem } from "../user/store";
import { ROLES, toUser, type UserItem } from "../user/user";
import { decodeCursor, encodeCursor } from "../util/cursor";
import { parseInput } from "../util/fn";
import { hoursToMilli, milliToHours } from "../util/hours";
import { isId } from "../util/id";
import { periodOf, type QuotaItem, toQuota } from "./quota";
import { resetQuotas } from "./reset";
import { openingLimitMilli } from "./service";
import { changeQuotaLimitItem, getQuotaItem, getQuotaItems, quotaNotOpenCheck } from "./store";

/** Most GPU-hours a monthly limit may be set to. */
export const MAX_LIMIT_HOURS = 1_000_000;

export const ListUsersInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
const UserCursor = z.object({ after: z.string().refine(isId) });

export const SetQuotaInput = z.strictObject({
  // Whole milli-GPU-hours, like every quota amount.
  limitHours: z
    .number()
    .min(0)
    .max(MAX_LIMIT_HOURS)
    .refine(
      (hours) => Number.isInteger(Math.round(hours * 1000)) && Math.abs(hours * 1000 - Math.round(hours * 1000)) < 1e-6,
      "must have at most 3 decimals",
    ),
});

/** How long an on-demand reset may run inside one API request before answering `done: false`. */
export const RESET_REQUEST_BUDGET_MS = 20_000;

function assertAdmin(actor: Actor) {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
}

const quotaView = (core: Core, user: UserItem, item: QuotaItem | undefined, period: string) => {
  if (item) return toQuota(item);
  const limit = openingLimitMilli(core, user);
  return toQuota({ period, limitMilli: limit, reservedMilli: 0, usedMilli: 0, remainingMilli: limit });
};

const userView = (core: Core, user: UserItem, item: QuotaItem | undefined, period: string) => ({
  ...toUser(user),
  monthlyLimitHours: openingLimitMilli(core, user) / 1000,
  quota: quotaView(core, user, item, period),
});

/** Users in creation order, each with this month's quota (admins). */
export async function listUsers(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(ListUsersInput, body);
  assertAdmin(actor);
  const after = input.cursor ? decodeCursor(UserCursor, input.cursor).after : undefined;
  const page = await listUserItems(core.db, input.limit, after);
  const period = periodOf(core.now());
  const quotas = await getQuotaItems(
    core.db,
    page.items.map((u) => u.id),
    period,
  );
  return {
    items: page.items.map((user) => userView(core, user, quotas.get(user.id), period)),
    nextCursor: page.last && page.items.length ? encodeCursor({ after: page.items.at(-1)!.id }) : null,
  };
}

/**
 * Sets a user's standing monthly limit (admins): later months open with it, and this month's
 * limit moves to it at once (its remaining GPU-hours by the difference, possibly below zero: jobs
 * already holding GPU-hours keep them). One transaction, conditional on the month as it was read.
 */
export async function setUserQuota(core: Core, actor: Actor, userId: string, body: unknown) {
  assertAdmin(actor);
  const { limitHours } = parseInput(SetQuotaInput, body);
  const limit = hoursToMilli(limitHours);
  const notFound = () => new NotFoundError(`User ${userId} not found`);
  if (!isId(userId)) throw notFound();
  const period = periodOf(core.now());
  for (let attempt = 0; attempt < 5; attempt++) {
    const at = core.now().toISOString();
    const current = await getQuotaItem(core.db, userId, period);
    try {
      await transactWrite(core.db, [
        setMonthlyLimitItem(core.db, userId, limit, at),
        current
          ? changeQuotaLimitItem(core.db, { userId, period, fromLimit: current.limitMilli, toLimit: limit, at })
          : quotaNotOpenCheck(core.db, userId, period),
        auditEntryItem(
          core.db,
          auditEntry(
            actor,
            {
              action: "user.quota",
              target: { kind: "user", id: userId },
              before: current ? { period, limitHours: milliToHours(current.limitMilli) } : { period },
              // As stored (whole milli-hours): an input such as 1e-300 rounds to 0.
              after: { period, limitHours: milliToHours(limit) },
            },
            at,
          ),
        ),
      ]);
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      if (error.failedAt(0)) throw notFound();
      continue; // the month changed under us (opened, or its limit moved): read it again
    }
    const user = (await getUserItem(core.db, userId))!;
    return userView(core, user, await getQuotaItem(core.db, userId, period), period);
  }
  throw new ContentionError(`The quota of user ${userId} kept changing; please retry`);
}

export const UpdateUserInput = z
  .strictObject({ role: z.enum(ROLES).optional(), active: z.boolean().optional() })
  .refine((input) => input.role !== undefined || input.active !== undefined, "must set role or active (or both)");

/**
 * Changes an account's role and whether it is active (admins): promote, demote, disable, enable
 * (an account registered under REGISTRATION_MODE=approval is enabled this way). Takes effect at once:
 * every request reads the stored account. The last active admin cannot be demoted or disabled
 * (LastAdminError). One conditional transaction on the account as read.
 */
export async function updateUser(core: Core, actor: Actor, userId: string, body: unknown) {
  assertAdmin(actor);
  const input = parseInput(UpdateUserInput, body);
  const notFound = () => new NotFoundError(`User ${userId} not found`);
  if (!isId(userId)) throw notFound();
  const period = periodOf(core.now());
  // Admins the index (gsi2, a moment behind) still lists but whose item said otherwise.
  const notKeepers = new Set([userId]);
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await getUserItem(core.db, userId, true);
    if (!before) throw notFound();
    const after = { role: input.role ?? before.role, active: input.active ?? before.active };
    const losesAdmin = before.role === "admin" && before.active && !(after.role === "admin" && after.active);
    let keeper: string | undefined;
    if (losesAdmin) {
      keeper = (await listActiveAdminIds(core.db, notKeepers.size + 1)).find((id) => !notKeepers.has(id));
      if (!keeper) throw new LastAdminError("This is the last active admin: make another admin first");
    }
    const at = core.now().toISOString();
    const audit = auditEntry(
      actor,
      { action: "user.access", target: { kind: "user", id: userId }, before: { role: before.role, active: before.active }, after },
      at,
    );
    try {
      await transactWrite(core.db, [...setAccessItems(core.db, before, after, at, keeper), auditEntryItem(core.db, audit)]);
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      if (keeper && error.failedAt(1)) notKeepers.add(keeper);
      continue; // the account or the keeping admin changed meanwhile: read again
    }
    const user = (await getUserItem(core.db, userId, true))!;
    return userView(core, user, await getQuotaItem(core.db, userId, period), period);
  }
  throw new ContentionError(`User ${userId} kept changing; please retry`);
}

/** POST /admin/quotas/reset: runs (or continues) this month's reset for up to ~20 s. */
export async function runQuotaReset(core: Core, actor: Actor) {
  assertAdmin(actor);
  await recordRun(core, actor, { action: "quota.reset.run", target: { kind: "quotaReset", id: periodOf(core.now()) } });
  return resetQuotas(core, { timeBudgetMs: RESET_REQUEST_BUDGET_MS });
}
