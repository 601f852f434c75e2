/** Idempotency records: an Idempotency-Key remembers which job a request created, for 24 hours. */
import { createHash } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import type { Db } from "../db/client";
import type { TransactItem } from "../db/transact";
import { idempotencyKeys } from "./keys";

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

export interface IdempotencyItem {
  pk: string;
  sk: string;
  type: "Idempotency";
  userId: string;
  key: string;
  requestHash: string;
  jobId: string;
  createdAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the record some time after this. */
  expiresAt: number;
}

/** Stable hash of a validated request (key order does not matter). */
export function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex");
}

export const isLive = (item: IdempotencyItem, now: Date) => item.expiresAt > Math.floor(now.getTime() / 1000);

/** Get a user's idempotency record for `key` (expired ones still awaiting TTL deletion included). */
export async function getIdempotencyItem(db: Db, userId: string, key: string) {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: idempotencyKeys.record(userId, key), ConsistentRead: true }),
  );
  return Item as IdempotencyItem | undefined;
}

/** Transaction item claiming `key` for a job; fails if a live record holds the key already. */
export function putIdempotencyItem(
  db: Db,
  r: { userId: string; key: string; requestHash: string; jobId: string; now: Date },
): TransactItem {
  const nowSeconds = Math.floor(r.now.getTime() / 1000);
  const item: IdempotencyItem = {
    ...idempotencyKeys.record(r.userId, r.key),
    type: "Idempotency",
    userId: r.userId,
    key: r.key,
    requestHash: r.requestHash,
    jobId: r.jobId,
    createdAt: r.now.toISOString(),
    expiresAt: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
  };
  return {
    Put: {
      TableName: db.table,
      Item: item,
      ConditionExpression: "attribute_not_exists(pk) OR expiresAt <= :now",
      ExpressionAttributeValues: { ":now": nowSeconds },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}
