/** Quota access patterns. */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { batchGetItems } from "../db/read";
import type { TransactItem } from "../db/transact";
import { jobKeys } from "../job/keys";
import type { MilliHours } from "../util/hours";
import { quotaKeys } from "./keys";
import type { QuotaItem } from "./quota";
import type { RateForm } from "./rate";

/** Get one user's quota for one period (undefined until something was reserved that month). */
export async function getQuotaItem(db: Db, userId: string, period: string): Promise<QuotaItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: quotaKeys.quota(userId, period) }));
  return Item as QuotaItem | undefined;
}

/**
 * Transaction item reserving `milli` GPU-hours in a user's period. Opens the period at
 * `limitIfNew` when it does not exist yet. Fails its condition when the reservation does not fit.
 */
export function reserveQuotaItem(
  db: Db,
  p: { userId: string; period: string; milli: MilliHours; limitIfNew: MilliHours; at: string },
): TransactItem {
  const fitsFreshPeriod = p.milli <= p.limitIfNew;
  return {
    Update: {
      ...addReservation(db, p),
      // A fresh period can take the reservation when the opening limit covers it.
      ConditionExpression: fitsFreshPeriod ? "attribute_not_exists(#remaining) OR #remaining >= :milli" : "#remaining >= :milli",
    },
  };
}

/**
 * Transaction item reserving `milli` GPU-hours in a user's period that must be open already (for a
 * submission that has not read the account, so does not know its opening limit). Fails its
 * condition, with the item as it was (ALL_OLD; none when the period is not open), when the period
 * is not open or the reservation does not fit.
 */
export function reserveOpenQuotaItem(db: Db, p: { userId: string; period: string; milli: MilliHours; at: string }): TransactItem {
  return {
    Update: {
      ...addReservation(db, { ...p, limitIfNew: 0 }),
      ConditionExpression: "attribute_exists(#remaining) AND #remaining >= :milli",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/** The Update adding `milli` to a period's reservation, opening the period at `limitIfNew` if it is not open. */
function addReservation(db: Db, p: { userId: string; period: string; milli: MilliHours; limitIfNew: MilliHours; at: string }) {
  return {
    TableName: db.table,
    Key: quotaKeys.quota(p.userId, p.period),
    UpdateExpression: [
      "SET #type = :type, userId = :userId, period = :period, updatedAt = :at",
      "#limit = if_not_exists(#limit, :limitIfNew)",
      "#used = if_not_exists(#used, :zero)",
      "#reserved = if_not_exists(#reserved, :zero) + :milli",
      "#remaining = if_not_exists(#remaining, :limitIfNew) - :milli",
    ].join(", "),
    ExpressionAttributeNames: {
      "#type": "type",
      "#limit": "limitMilli",
      "#used": "usedMilli",
      "#reserved": "reservedMilli",
      "#remaining": "remainingMilli",
    },
    ExpressionAttributeValues: {
      ":type": "Quota",
      ":userId": p.userId,
      ":period": p.period,
      ":at": p.at,
      ":limitIfNew": p.limitIfNew,
      ":zero": 0,
      ":milli": p.milli,
    },
  };
}

/**
 * Transaction item closing a job's reservation of `reservedMilli` in its period and charging
 * `usedMilli` (0: released in full), keeping `remainingMilli` = limit − reserved − used.
 */
export function settleQuotaItem(
  db: Db,
  p: { userId: string; period: string; reservedMilli: MilliHours; usedMilli: MilliHours; at: string },
): TransactItem {
  return {
    Update: {
      TableName: db.table,
      Key: quotaKeys.quota(p.userId, p.period),
      UpdateExpression: "SET #reserved = #reserved - :reserved, #used = #used + :used, #remaining = #remaining + :back, updatedAt = :at",
      ConditionExpression: "attribute_exists(#reserved)",
      ExpressionAttributeNames: { "#reserved": "reservedMilli", "#used": "usedMilli", "#remaining": "remainingMilli" },
      ExpressionAttributeValues: {
        ":reserved": p.reservedMilli,
        ":used": p.usedMilli,
        ":back": p.reservedMilli - p.usedMilli,
        ":at": p.at,
      },
    },
  };
}

/**
 * Opens a user's period at `limit` with nothing reserved or used, unless it is already open (a
 * submission opens it too). Returns whether this call opened it.
 */
export async function openQuotaPeriod(db: Db, p: { userId: string; period: string; limit: MilliHours; at: string }): Promise<boolean> {
  const item: QuotaItem = {
    ...quotaKeys.quota(p.userId, p.period),
    type: "Quota",
    userId: p.userId,
    period: p.period,
    limitMilli: p.limit,
    reservedMilli: 0,
    usedMilli: 0,
    remainingMilli: p.limit,
    updatedAt: p.at,
  };
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Transaction items moving an open job's reservation from its period to `to`: the old period gives
 * it back, the new one takes it (opening at `limitIfNew` if needed, and taking it even past the
 * limit: work already admitted is never dropped), and the job names the new period. Conditional on
 * the job still being open in the old period, so a carried job is never carried twice.
 */
export function carryReservationItems(
  db: Db,
  job: { id: string; ownerId: string; reservedMilli: MilliHours; quotaPeriod: string },
  to: { period: string; limitIfNew: MilliHours; at: string },
): TransactItem[] {
  return [
    {
      Update: {
        TableName: db.table,
        Key: jobKeys.job(job.id),
        UpdateExpression: "SET quotaPeriod = :to, updatedAt = :at",
        ConditionExpression: "quotaPeriod = :from AND #status IN (:pending, :approved, :running)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":to": to.period,
          ":from": job.quotaPeriod,
          ":at": to.at,
          ":pending": "PENDING",
          ":approved": "APPROVED",
          ":running": "RUNNING",
        },
      },
    },
    settleQuotaItem(db, { userId: job.ownerId, period: job.quotaPeriod, reservedMilli: job.reservedMilli, usedMilli: 0, at: to.at }),
    // Taken even past the new month's limit: no condition.
    {
      Update: addReservation(db, {
        userId: job.ownerId,
        period: to.period,
        milli: job.reservedMilli,
        limitIfNew: to.limitIfNew,
        at: to.at,
      }),
    },
  ];
}

/**
 * Transaction item changing the limit of an open period from `fromLimit` to `toLimit`, moving
 * `remainingMilli` by the difference. Conditional on the limit still being `fromLimit`.
 */
export function changeQuotaLimitItem(
  db: Db,
  p: { userId: string; period: string; fromLimit: MilliHours; toLimit: MilliHours; at: string },
): TransactItem {
  return {
    Update: {
      TableName: db.table,
      Key: quotaKeys.quota(p.userId, p.period),
      UpdateExpression: "SET #limit = :to, #remaining = #remaining + :delta, updatedAt = :at",
      ConditionExpression: "#limit = :from",
      ExpressionAttributeNames: { "#limit": "limitMilli", "#remaining": "remainingMilli" },
      ExpressionAttributeValues: { ":to": p.toLimit, ":from": p.fromLimit, ":delta": p.toLimit - p.fromLimit, ":at": p.at },
    },
  };
}

/** Transaction item asserting a user's period is not open yet. */
export const quotaNotOpenCheck = (db: Db, userId: string, period: string): TransactItem => ({
  ConditionCheck: { TableName: db.table, Key: quotaKeys.quota(userId, period), ConditionExpression: "attribute_not_exists(pk)" },
});

/** This month's quota items of several users (BatchGetItem, up to 100 keys a call). */
export async function getQuotaItems(db: Db, userIds: string[], period: string): Promise<Map<string, QuotaItem>> {
  const items = await batchGetItems<QuotaItem>(
    db,
    userIds.map((id) => quotaKeys.quota(id, period)),
  );
  return new Map(items.map((item) => [item.userId, item]));
}

/**
 * Transaction item taking a submission from the user's limits: one more open job, failing when
 * `maxOpen` are open already (Slurm's MaxSubmitJobsPerUser), and one interval of the submission
 * rate in the form `rate` chose (quota/rate.ts), failing when the rate was passed meanwhile. Both
 * in one item of the user's; a failure returns the item as it was (ALL_OLD) to tell which.
 */
export function submissionLimitsItem(db: Db, userId: string, maxOpen: number, rate: RateForm): TransactItem {
  const idle = rate.form === "idle";
  return {
    Update: {
      TableName: db.table,
      Key: quotaKeys.submissionLimits(userId),
      UpdateExpression: `SET #type = :type, tat = ${idle ? ":next" : "tat + :interval"} ADD #open :one`,
      ConditionExpression: `(attribute_not_exists(#open) OR #open < :max) AND ${
        idle ? "(attribute_not_exists(tat) OR tat <= :now OR tat > :skewed)" : "(tat > :earliest AND tat <= :latest)"
      }`,
      ExpressionAttributeNames: { "#type": "type", "#open": "open" },
      ExpressionAttributeValues: {
        ":type": "SubmissionLimits",
        ":one": 1,
        ":max": maxOpen,
        ...(idle
          ? {
              ":now": rate.nowMs,
              ":next": rate.nowMs + rate.intervalMs,
              ":skewed": rate.nowMs + rate.toleranceMs + rate.intervalMs + rate.skewMs,
            }
          : { ":interval": rate.intervalMs, ":earliest": rate.nowMs - rate.slackMs, ":latest": rate.nowMs + rate.toleranceMs }),
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/** Transaction item counting one open job of the user less: in the transition that ends it. */
export const closeJobItem = (db: Db, userId: string): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: quotaKeys.submissionLimits(userId),
    UpdateExpression: "SET #type = :type ADD #open :minusOne",
    ExpressionAttributeNames: { "#type": "type", "#open": "open" },
    ExpressionAttributeValues: { ":type": "SubmissionLimits", ":minusOne": -1 },
  },
});
