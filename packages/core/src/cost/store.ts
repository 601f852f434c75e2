/** Cost and usage access patterns: usage days by day, owner and org; running jobs; orgs a user owns;
 * a day's snapshots and their replacement. */
import type { Db } from "../db/client";
import { queryAll } from "../db/read";
import { type TransactItem, transactWrite } from "../db/transact";
import type { JobItem } from "../job/job";
import { jobKeys, shards } from "../job/keys";
import { costKeys } from "./keys";
import type { CostDayItem } from "./snapshot";
import type { UsageDayItem } from "./usage";

/** Every item a query matches, all pages. */

/** The usage days of UTC day `day`: one item per job whose finished run touched it. */
export const listUsageDayItems = (db: Db, day: string) =>
  queryAll<UsageDayItem>(db, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": costKeys.usageDayPartition(day).pk },
    ConsistentRead: true,
  });

/** One owner's usage days from `from` to `to` (gsi1). */
export function listUsageByOwner(db: Db, ownerId: string, from: string, to: string) {
  const range = costKeys.usageDayRange(from, to);
  return queryAll<UsageDayItem>(db, {
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
    ExpressionAttributeValues: { ":pk": costKeys.usageOwnerPartition(ownerId).gsi1pk, ":from": range.from, ":to": range.to },
  });
}

/** One org's usage days from `from` to `to` (gsi3). */
export function listUsageByOrg(db: Db, orgId: string, from: string, to: string) {
  const range = costKeys.usageDayRange(from, to);
  return queryAll<UsageDayItem>(db, {
    IndexName: "gsi3",
    KeyConditionExpression: "gsi3pk = :pk AND gsi3sk BETWEEN :from AND :to",
    ExpressionAttributeValues: { ":pk": costKeys.usageOrgPartition(orgId).gsi3pk, ":from": range.from, ":to": range.to },
  });
}

/** Every RUNNING job: the 16 shards of the status index (gsi2 STATUS#RUNNING#<shard>), all pages. */
export async function listRunningJobItems(db: Db): Promise<JobItem[]> {
  const perShard = await Promise.all(
    shards().map((shard) =>
      queryAll<JobItem>(db, {
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :pk",
        ExpressionAttributeValues: { ":pk": jobKeys.statusPartition("RUNNING", shard).gsi2pk },
      }),
    ),
  );
  return perShard.flat();
}

/** Ids of the organizations `userId` owns: their Membership items (pk USER#<id>, sk ORG#<orgId>) with role "owner". */
export async function listOwnedOrgIds(db: Db, userId: string): Promise<string[]> {
  const memberships = await queryAll<{ orgId: string; role: string }>(db, {
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    FilterExpression: "#role = :owner",
    ExpressionAttributeNames: { "#role": "role" },
    ExpressionAttributeValues: {
      ":pk": costKeys.membershipPartition(userId).pk,
      ":prefix": costKeys.membershipPrefix(),
      ":owner": "owner",
    },
  });
  return memberships.map((m) => m.orgId);
}

/** A day's snapshots and rollup summary (partition COST#<day>). */
export const listCostDayItems = (db: Db, day: string) =>
  queryAll<CostDayItem>(db, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": costKeys.costDayPartition(day).pk },
    ConsistentRead: true,
  });

/**
 * Replaces a day's snapshots: puts `items` (snapshots and the summary) and deletes the `stale`
 * keys, in transactions of at most 100 items. The summary's Put goes first and is conditional on
 * the summary being the one this run read (`previousRunId`; none: no summary yet), so two rollups
 * of the same day cannot interleave: the later writer gets TransactionCancelled and runs again.
 */
export async function replaceCostDay(
  db: Db,
  day: string,
  items: CostDayItem[],
  stale: { pk: string; sk: string }[],
  previousRunId: string | undefined,
): Promise<void> {
  const summaryKey = costKeys.rollupSummary(day);
  const writes: TransactItem[] = [
    ...items.map((Item): TransactItem => {
      const isSummary = Item.sk === summaryKey.sk;
      return {
        Put: {
          TableName: db.table,
          Item,
          ...(isSummary
            ? previousRunId
              ? { ConditionExpression: "runId = :previous", ExpressionAttributeValues: { ":previous": previousRunId } }
              : { ConditionExpression: "attribute_not_exists(pk)" }
            : {}),
        },
      };
    }),
    ...stale.map((Key): TransactItem => ({ Delete: { TableName: db.table, Key } })),
  ];
  // The conditional summary goes first, so the chunk carrying the check is the first written.
  writes.sort((a, b) => Number(b.Put?.ConditionExpression !== undefined) - Number(a.Put?.ConditionExpression !== undefined));
  for (let i = 0; i < writes.length; i += 100) await transactWrite(db, writes.slice(i, i + 100));
}
