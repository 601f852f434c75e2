/** User access patterns. */
import { GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { unlessConditionFails } from "../db/conditional";
import { batchGetItems } from "../db/read";
import { type TransactItem, TransactionCancelled, transactWrite } from "../db/transact";
import { AlreadyExistsError } from "../errors";
import { userKeys } from "./keys";
import type { UserItem } from "./user";

/** Get a user by id. */
export async function getUserItem(db: Db, userId: string, consistent = false): Promise<UserItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: userKeys.user(userId), ConsistentRead: consistent }));
  return Item as UserItem | undefined;
}

/** Transaction item requiring the user to exist, be active and still be at `sessionVersion` (no
 * logout or password change since the token); on failure, the user as it was (ALL_OLD). */
export const activeUserCheck = (db: Db, userId: string, sessionVersion = 0): TransactItem => ({
  ConditionCheck: {
    TableName: db.table,
    Key: userKeys.user(userId),
    ConditionExpression: `attribute_exists(pk) AND active = :active AND ${
      sessionVersion === 0 ? "(attribute_not_exists(sessionVersion) OR sessionVersion = :sv)" : "sessionVersion = :sv"
    }`,
    ExpressionAttributeValues: { ":active": true, ":sv": sessionVersion },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  },
});

/** Ends every session of the user (their tokens stop working): one more session version. With
 * `password`, also sets a new password hash, conditional on the old one (a concurrent change wins
 * once). Returns the account as written; undefined when it is gone or its password changed meanwhile. */
export async function bumpSessionVersion(
  db: Db,
  userId: string,
  at: string,
  password?: { oldHash: string; newHash: string },
): Promise<UserItem | undefined> {
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: userKeys.user(userId),
        UpdateExpression: `SET sessionVersion = if_not_exists(sessionVersion, :zero) + :one, updatedAt = :at${password ? ", passwordHash = :new" : ""}`,
        ConditionExpression: `attribute_exists(pk)${password ? " AND passwordHash = :old" : ""}`,
        ExpressionAttributeValues: {
          ":zero": 0,
          ":one": 1,
          ":at": at,
          ...(password ? { ":new": password.newHash, ":old": password.oldHash } : {}),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as UserItem;
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return undefined;
    throw error;
  }
}

/** Replaces the account's password hash by one of the same password at other parameters (a rehash
 * on login): sessions go on. Nothing when the hash changed meanwhile (a password change wins). */
export async function replacePasswordHash(db: Db, userId: string, oldHash: string, newHash: string): Promise<void> {
  await unlessConditionFails(
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: userKeys.user(userId),
        UpdateExpression: "SET passwordHash = :new",
        ConditionExpression: "passwordHash = :old",
        ExpressionAttributeValues: { ":new": newHash, ":old": oldHash },
      }),
    ),
  );
}

/**
 * Transaction item counting one more (`delta` 1) or one fewer (-1) org membership on the account.
 * Conditional on the account existing, and for one more on it having fewer than `max` (on failure,
 * the account as it was: ALL_OLD). An account whose memberships predate the count starts counting at its first change.
 */
export function orgCountItem(db: Db, userId: string, delta: 1 | -1, max: number, counted?: number): TransactItem {
  // An account made before the count existed has none: `counted` is its memberships, counted by the
  // caller, and this first change writes the count from them (unless a concurrent one just did).
  if (counted !== undefined) {
    return {
      Update: {
        TableName: db.table,
        Key: userKeys.user(userId),
        UpdateExpression: "SET orgCount = :count",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(orgCount)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
        ExpressionAttributeValues: { ":count": Math.max(0, counted + delta) },
      },
    };
  }
  return {
    Update: {
      TableName: db.table,
      Key: userKeys.user(userId),
      UpdateExpression: "SET orgCount = if_not_exists(orgCount, :zero) + :delta",
      ConditionExpression:
        delta > 0
          ? "attribute_exists(pk) AND (attribute_not_exists(orgCount) OR orgCount < :max)"
          : "attribute_exists(pk) AND orgCount > :zero",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      ExpressionAttributeValues: { ":zero": 0, ":delta": delta, ...(delta > 0 ? { ":max": max } : {}) },
    },
  };
}

/** Get a user by email (case-insensitive): the email guard item, then the user. */
export async function getUserItemByEmail(db: Db, email: string): Promise<UserItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: userKeys.email(email), ConsistentRead: true }));
  if (!Item) return undefined;
  return getUserItem(db, Item.userId as string, true);
}

/** Create a user and claim its email in one transaction; a taken email → AlreadyExistsError. */
export async function createUserItem(db: Db, user: Omit<UserItem, "pk" | "sk" | "gsi1pk" | "gsi1sk" | "type">) {
  const item: UserItem = {
    ...userKeys.user(user.id),
    ...userKeys.list(user.id),
    ...(user.role === "admin" && user.active ? userKeys.activeAdmin(user.id) : {}),
    type: "User",
    ...user,
  };
  try {
    await transactWrite(db, [
      {
        Put: {
          TableName: db.table,
          Item: { ...userKeys.email(user.email), type: "EmailClaim", userId: user.id },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      { Put: { TableName: db.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
    ]);
  } catch (error) {
    if (error instanceof TransactionCancelled && error.failedAt(0)) {
      throw new AlreadyExistsError("An account with this email already exists");
    }
    throw error;
  }
  return item;
}

/** List users in creation order, a page at a time. */
export async function listUserItems(db: Db, limit: number, afterUserId?: string) {
  const { Items, LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": userKeys.listPartition().gsi1pk },
      Limit: limit,
      ...(afterUserId ? { ExclusiveStartKey: { ...userKeys.user(afterUserId), ...userKeys.list(afterUserId) } } : {}),
    }),
  );
  return { items: (Items ?? []) as UserItem[], last: LastEvaluatedKey?.gsi1sk as string | undefined };
}

/** Up to `limit` active admins' ids (gsi2, so a moment behind: whoever acts on one checks its item). */
export async function listActiveAdminIds(db: Db, limit: number): Promise<string[]> {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: "gsi2",
      KeyConditionExpression: "gsi2pk = :pk",
      ExpressionAttributeValues: { ":pk": userKeys.activeAdminsPartition().gsi2pk },
      Limit: limit,
      ProjectionExpression: "id",
    }),
  );
  return (Items ?? []).map((item) => String(item.id));
}

/** Puts an active admin created before the active-admin index (gsi2) existed into it; nothing when
 * it is there already or the account is no longer an active admin. */
export async function indexActiveAdmin(db: Db, userId: string): Promise<void> {
  await unlessConditionFails(
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: userKeys.user(userId),
        UpdateExpression: "SET gsi2pk = :g2pk, gsi2sk = :g2sk",
        ConditionExpression: "#role = :admin AND active = :true AND attribute_not_exists(gsi2pk)",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: { ":g2pk": userKeys.activeAdmin(userId).gsi2pk, ":g2sk": userId, ":admin": "admin", ":true": true },
      }),
    ),
  );
}

/**
 * Transaction items changing an account's role and whether it is active, conditional on both as
 * read (`before`); the active-admin index entry follows. With `keeper`, also requires that account
 * to be an active admin still, so the last active admin is never demoted or disabled: two admins
 * demoting each other at once touch each other's item, so only one transaction wins.
 */
export function setAccessItems(
  db: Db,
  before: UserItem,
  after: { role: UserItem["role"]; active: boolean },
  at: string,
  keeper?: string,
): TransactItem[] {
  const admin = after.role === "admin" && after.active;
  // Disabling ends the account's sessions too, so enabling it again does not bring old tokens back.
  const endSessions = before.active && !after.active;
  const update: TransactItem = {
    Update: {
      TableName: db.table,
      Key: userKeys.user(before.id),
      UpdateExpression:
        `SET #role = :role, active = :active, updatedAt = :at${admin ? ", gsi2pk = :g2pk, gsi2sk = :g2sk" : " REMOVE gsi2pk, gsi2sk"}` +
        (endSessions ? " ADD sessionVersion :one" : ""),
      ConditionExpression: "#role = :wasRole AND active = :wasActive",
      ExpressionAttributeNames: { "#role": "role" },
      ExpressionAttributeValues: {
        ":role": after.role,
        ":active": after.active,
        ":at": at,
        ":wasRole": before.role,
        ":wasActive": before.active,
        ...(admin ? { ":g2pk": userKeys.activeAdmin(before.id).gsi2pk, ":g2sk": before.id } : {}),
        ...(endSessions ? { ":one": 1 } : {}),
      },
    },
  };
  if (!keeper) return [update];
  return [
    update,
    {
      ConditionCheck: {
        TableName: db.table,
        Key: userKeys.user(keeper),
        ConditionExpression: "#role = :admin AND active = :true",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: { ":admin": "admin", ":true": true },
      },
    },
  ];
}

/** Transaction item setting a user's standing monthly limit; the user must exist. */
export const setMonthlyLimitItem = (db: Db, userId: string, limitMilli: number, at: string): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: userKeys.user(userId),
    UpdateExpression: "SET monthlyLimitMilli = :limit, updatedAt = :at",
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: { ":limit": limitMilli, ":at": at },
  },
});

/** Several users by id (BatchGetItem, 100 keys a call, unprocessed keys retried); missing ones are left out. */
export async function getUserItems(db: Db, userIds: string[]): Promise<Map<string, UserItem>> {
  const items = await batchGetItems<UserItem>(
    db,
    [...new Set(userIds)].map((id) => userKeys.user(id)),
  );
  return new Map(items.map((item) => [item.id, item]));
}
