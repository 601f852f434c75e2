/** Failed logins per email (the lockout's record, auth/lockout.ts): one item, replaced only by a
 * write conditional on the version its writer read, cleared by a successful login, and gone on its
 * own a day after its last failure (TTL). */
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { unlessConditionFails } from "../db/conditional";
import { authKeys } from "./keys";

export interface LoginAttempts {
  /** Failures counted since `windowStart`. */
  failures: number;
  windowStart: string;
  lastFailureAt: string;
}

export interface LoginAttemptsItem extends LoginAttempts {
  pk: string;
  sk: string;
  type: "LoginAttempts";
  /** TTL (epoch seconds). */
  expiresAt: number;
}

const DAY_SECONDS = 86_400;

export async function getLoginAttemptsItem(db: Db, email: string): Promise<LoginAttemptsItem | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.table, Key: authKeys.loginAttempts(email), ConsistentRead: true }));
  return res.Item as LoginAttemptsItem | undefined;
}

/**
 * Replaces the email's record read as `read` (undefined: there was none) by `next`; false, writing
 * nothing, when another attempt replaced or cleared it since (the caller reads again).
 */
export async function replaceLoginAttempts(
  db: Db,
  email: string,
  read: LoginAttemptsItem | undefined,
  next: LoginAttempts,
): Promise<boolean> {
  const item: LoginAttemptsItem = {
    ...authKeys.loginAttempts(email),
    type: "LoginAttempts",
    ...next,
    expiresAt: Math.floor(Date.parse(next.lastFailureAt) / 1000) + DAY_SECONDS,
  };
  const written = await unlessConditionFails(
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: item,
        ...(read
          ? {
              ConditionExpression: "failures = :failures AND lastFailureAt = :last AND windowStart = :start",
              ExpressionAttributeValues: { ":failures": read.failures, ":last": read.lastFailureAt, ":start": read.windowStart },
            }
          : { ConditionExpression: "attribute_not_exists(pk)" }),
      }),
    ),
  );
  return written !== undefined;
}

/** A successful login clears the email's failures. */
export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: authKeys.loginAttempts(email) }));
}
