/** The audit trail's items: an entry is only ever put (never updated or deleted), inside the
 * transaction of the change it records; the trail reads newest first, a page at a time. */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import type { TransactItem } from "../db/transact";
import type { AuditEntryItem } from "./audit";
import { auditKeys } from "./keys";

/** Transaction item appending `entry` (its id is new, so the put never replaces one). */
export const auditEntryItem = (db: Db, entry: Omit<AuditEntryItem, "pk" | "sk" | "type">): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: { ...auditKeys.entry(entry.id), type: "AuditEntry", ...entry },
    ConditionExpression: "attribute_not_exists(pk)",
  },
});

/** Up to `limit` entries, newest first, older than entry `beforeId` when given; `more` when the page was full. */
export async function listAuditItems(db: Db, limit: number, beforeId?: string): Promise<{ items: AuditEntryItem[]; more: boolean }> {
  const { Items, LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": auditKeys.partition().pk, ":prefix": auditKeys.entryPrefix() },
      ScanIndexForward: false,
      Limit: limit,
      ...(beforeId ? { ExclusiveStartKey: auditKeys.entry(beforeId) } : {}),
    }),
  );
  return { items: (Items ?? []) as AuditEntryItem[], more: LastEvaluatedKey !== undefined };
}
