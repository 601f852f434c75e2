/** The monthly quota reset's progress record: one item per period, so a run that stopped half-way
 * (a Lambda timeout, a crash, an API call out of time) is continued by the next run, not redone. */

import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { quotaKeys } from "./keys";

/** Where a reset of one period stands. */
export interface ResetRunItem {
  pk: string;
  sk: string;
  type: "QuotaResetRun";
  period: string;
  /** "users": opening every user's period, page by page; "jobs": carrying open jobs; "done". */
  phase: "users" | "jobs" | "done";
  /** Last user whose period was opened (users phase), for the next page. */
  afterUserId?: string;
  usersOpened: number;
  jobsCarried: number;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/** The run of `period`, if one was started. */
export async function getResetRunItem(db: Db, period: string): Promise<ResetRunItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: quotaKeys.resetRun(period), ConsistentRead: true }));
  return Item as ResetRunItem | undefined;
}

/** Starts the run of `period` unless it exists (conditional Put); returns the run as stored. */
export async function startResetRunItem(db: Db, period: string, at: string): Promise<ResetRunItem> {
  const item: ResetRunItem = {
    ...quotaKeys.resetRun(period),
    type: "QuotaResetRun",
    period,
    phase: "users",
    usersOpened: 0,
    jobsCarried: 0,
    startedAt: at,
    updatedAt: at,
  };
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return item;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return (await getResetRunItem(db, period))!;
  }
}

/**
 * Records progress, conditional on the run still being where `from` left it, so two runs racing
 * over the same page record it once. Returns false when another run moved it first.
 */
export async function advanceResetRunItem(
  db: Db,
  from: Pick<ResetRunItem, "period" | "phase" | "afterUserId">,
  to: { phase: ResetRunItem["phase"]; afterUserId?: string; usersOpened?: number; jobsCarried?: number; at: string },
): Promise<boolean> {
  const set = ["phase = :phase", "updatedAt = :at", "usersOpened = usersOpened + :users", "jobsCarried = jobsCarried + :jobs"];
  const values: Record<string, unknown> = {
    ":phase": to.phase,
    ":at": to.at,
    ":users": to.usersOpened ?? 0,
    ":jobs": to.jobsCarried ?? 0,
    ":fromPhase": from.phase,
  };
  if (to.afterUserId !== undefined) {
    set.push("afterUserId = :after");
    values[":after"] = to.afterUserId;
  }
  if (to.phase === "done") set.push("finishedAt = :at");
  if (from.afterUserId !== undefined) values[":fromAfter"] = from.afterUserId;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: quotaKeys.resetRun(from.period),
        UpdateExpression: `SET ${set.join(", ")}`,
        ConditionExpression: `phase = :fromPhase AND ${from.afterUserId === undefined ? "attribute_not_exists(afterUserId)" : "afterUserId = :fromAfter"}`,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
