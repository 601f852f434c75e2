/** Failed logins per email (the lockout's record, auth/lockout.ts): one item, counted with an atomic
 * ADD, cleared by a successful login, and gone on its own a day after its last failure (TTL). */
import { DeleteCommand, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { authKeys } from "./keys";

export interface LoginAttemptsItem {
  pk: string;
  sk: string;
  type: "LoginAttempts";
  /** Failures counted since `windowStart`. */
  failures: number;
  windowStart: string;
  lastFailureAt: string;
  /** TTL (epoch seconds). */
  expiresAt: number;
}

const DAY_SECONDS = 86_400;

export async function getLoginAttemptsItem(db: Db, email: string): Promise<LoginAttemptsItem | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.table, Key: authKeys.loginAttempts(email), ConsistentRead: true }));
  return res.Item as LoginAttemptsItem | undefined;
}

/**
 * Counts one failed login at `at`: one more failure in the current window, or the first of a new
 * window when the last began before `windowFloor` — unless the email is locked (`lockedFrom`
 * failures or more) and failed last after `windowFloor`: a lock keeps counting. Returns the record.
 */
export async function recordLoginFailure(
  db: Db,
  email: string,
  at: Date,
  windowFloor: Date,
  lockedFrom: number,
): Promise<LoginAttemptsItem> {
  const now = at.toISOString();
  const key = authKeys.loginAttempts(email);
  const values = { ":now": now, ":one": 1, ":type": "LoginAttempts", ":ttl": Math.floor(at.getTime() / 1000) + DAY_SECONDS };
  const floor = { ":floor": windowFloor.toISOString(), ":max": lockedFrom };
  const update = (expression: string, condition: string) =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ...values, ...floor },
        ReturnValues: "ALL_NEW",
      }),
    );
  // Two tries of each: a concurrent failure may begin the window between them.
  for (let attempt = 0; ; attempt++) {
    try {
      // Within the window, or locked and failing again within a window of the last failure (so the
      // lock keeps growing): one more (concurrent failures each count, ADD is atomic).
      const res = await update(
        "SET #type = :type, lastFailureAt = :now, expiresAt = :ttl ADD failures :one",
        "attribute_exists(windowStart) AND (windowStart >= :floor OR (failures >= :max AND lastFailureAt >= :floor))",
      );
      return res.Attributes as LoginAttemptsItem;
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
    try {
      // No record, or its window is over: a new window begins with this failure.
      const res = await update(
        "SET #type = :type, windowStart = :now, lastFailureAt = :now, expiresAt = :ttl, failures = :one",
        "attribute_not_exists(windowStart) OR (windowStart < :floor AND (failures < :max OR lastFailureAt < :floor))",
      );
      return res.Attributes as LoginAttemptsItem;
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException" || attempt >= 1) throw error;
    }
  }
}

/** A successful login clears the email's failures. */
export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: authKeys.loginAttempts(email) }));
}
