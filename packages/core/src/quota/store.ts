/** Quota access patterns. */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { keys } from "../db/keys";
import type { TransactItem } from "../db/transact";
import type { MilliHours } from "../util/hours";
import type { QuotaItem } from "./quota";

/** Get one user's quota for one period (undefined until something was reserved that month). */
export async function getQuotaItem(db: Db, userId: string, period: string): Promise<QuotaItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.quota(userId, period) }));
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
      TableName: db.table,
      Key: keys.quota(p.userId, p.period),
      UpdateExpression: [
        "SET #type = :type, userId = :userId, period = :period, updatedAt = :at",
        "#limit = if_not_exists(#limit, :limitIfNew)",
        "#used = if_not_exists(#used, :zero)",
        "#reserved = if_not_exists(#reserved, :zero) + :milli",
        "#remaining = if_not_exists(#remaining, :limitIfNew) - :milli",
      ].join(", "),
      // A fresh period can take the reservation when the opening limit covers it.
      ConditionExpression: fitsFreshPeriod
        ? "attribute_not_exists(#remaining) OR #remaining >= :milli"
        : "#remaining >= :milli",
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
      Key: keys.quota(p.userId, p.period),
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
