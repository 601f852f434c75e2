/** Job and job-event access patterns. */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Db } from "../db/client";
import { batchGetItems, queryAll } from "../db/read";
import type { TransactItem } from "../db/transact";
import { userKeys } from "../user/keys";
import type { UserItem } from "../user/user";
import { newId } from "../util/id";
import { type JobDependentItem, type JobEventItem, type JobItem, type JobStatus, OPEN_STATUSES } from "./job";
import { jobKeys, shards } from "./keys";

export type NewJob = Omit<JobItem, "pk" | "sk" | "gsi1pk" | "gsi1sk" | "gsi2pk" | "gsi2sk" | "gsi3pk" | "gsi3sk" | "type">;

/** The stored item for a job, with its index keys derived from owner, status and id. */
export function jobItem(job: NewJob): JobItem {
  return {
    ...jobKeys.job(job.id),
    ...jobKeys.byOwner(job.ownerId, job.id),
    ...jobKeys.byStatus(job.status, job.id),
    ...jobKeys.inAll(job.id),
    type: "Job",
    ...job,
  };
}

/** Transaction item creating a job that must not exist yet. */
export const putNewJobItem = (db: Db, job: JobItem): TransactItem => ({
  Put: { TableName: db.table, Item: job, ConditionExpression: "attribute_not_exists(pk)" },
});

/**
 * Transaction item asserting that dependency `jobId` exists, belongs to `ownerId` or (given
 * `orgId`) to the same org, and has not ended REJECTED, FAILED or CANCELLED. A failure returns the
 * job as it is (ALL_OLD), so the caller can tell a failed dependency from a missing or foreign one.
 */
export const dependencyCheck = (db: Db, jobId: string, ownerId: string, orgId?: string): TransactItem => ({
  ConditionCheck: {
    TableName: db.table,
    Key: jobKeys.job(jobId),
    ConditionExpression: [
      "attribute_exists(pk)",
      orgId === undefined ? "ownerId = :owner" : "(ownerId = :owner OR orgId = :org)",
      "NOT #status IN (:rejected, :failed, :cancelled)",
    ].join(" AND "),
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: {
      ":owner": ownerId,
      ...(orgId === undefined ? {} : { ":org": orgId }),
      ":rejected": "REJECTED",
      ":failed": "FAILED",
      ":cancelled": "CANCELLED",
    },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  },
});

/** Transaction item asserting that dependency `jobId` is COMPLETED (the job as it is on failure). */
export const dependencyCompletedCheck = (db: Db, jobId: string): TransactItem => ({
  ConditionCheck: {
    TableName: db.table,
    Key: jobKeys.job(jobId),
    ConditionExpression: "#status = :completed",
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: { ":completed": "COMPLETED" },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  },
});

/** The dependents-index item saying job `jobId` depends on `dependsOn`. */
export function jobDependentItem(e: { jobId: string; dependsOn: string }): JobDependentItem {
  return { ...jobKeys.dependent(e.dependsOn, e.jobId), type: "JobDependent", ...e };
}

/** Transaction item writing a dependents-index item (written once, with the new job). */
export const putJobDependentItem = (db: Db, item: JobDependentItem): TransactItem => ({
  Put: { TableName: db.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" },
});

/** The ids of the jobs that name `jobId` in their `dependsOn` (Query of its partition, `DEPENDENT#` prefix). */
export async function listDependentIds(db: Db, jobId: string): Promise<string[]> {
  const items = await queryAll<JobDependentItem>(db, {
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": jobKeys.job(jobId).pk, ":prefix": jobKeys.dependentPrefix() },
    ConsistentRead: true,
  });
  return items.map((item) => item.jobId);
}

/** Several jobs by id (BatchGetItem, up to 100 keys a call); missing ones are absent from the map. */
export async function getJobItems(db: Db, jobIds: string[], consistent = false): Promise<Map<string, JobItem>> {
  const items = await batchGetItems<JobItem>(
    db,
    [...new Set(jobIds)].map((id) => jobKeys.job(id)),
    consistent,
  );
  return new Map(items.map((item) => [item.id, item]));
}

/** A lifecycle event item for `jobId`. */
export function jobEventItem(e: { jobId: string; status: JobStatus; actor: string; reason?: string; at: string }): JobEventItem {
  return { ...jobKeys.event(e.jobId, e.at, newId()), type: "JobEvent", ...e };
}

/** Transaction item appending a lifecycle event. */
export const putJobEventItem = (db: Db, event: JobEventItem): TransactItem => ({
  Put: { TableName: db.table, Item: event, ConditionExpression: "attribute_not_exists(pk)" },
});

/**
 * Transaction item moving `job` to status `to` (with its status-index keys), setting `changes` and
 * clearing the parked task token. Conditional on the job being as it was read: same status, same
 * quota period. Not on the token: an execution may park one between the read and this write (it can
 * only do so while the job is still in its status), and this write answers whatever is parked: the
 * stream record's old image names it (reactions.ts answerTask), and `answeredToken` copies it from
 * the item itself (what the reconciler answers again if that answer was lost), else keeps the one a
 * previous transition answered. A failed condition returns the job as it now is (ALL_OLD).
 */
export function updateJobStatusItem(
  db: Db,
  job: Pick<JobItem, "id" | "status" | "quotaPeriod" | "answeredToken">,
  to: JobStatus,
  changes: Record<string, unknown>,
  at: string,
): TransactItem {
  const { answeredToken: _answered, ...rest } = changes;
  const set = { ...rest, ...jobKeys.byStatus(to, job.id), status: to, updatedAt: at };
  const fields = Object.entries(set).filter(([, v]) => v !== undefined);
  const names: Record<string, string> = {
    "#status": "status",
    "#period": "quotaPeriod",
    "#token": "taskToken",
    "#answered": "answeredToken",
  };
  const values: Record<string, unknown> = { ":from": job.status, ":period": job.quotaPeriod, ":answered": job.answeredToken ?? "" };
  fields.forEach(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
  });
  return {
    Update: {
      TableName: db.table,
      Key: jobKeys.job(job.id),
      UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :f${i}`).join(", ")}, #answered = if_not_exists(#token, :answered) REMOVE #token`,
      ConditionExpression: "#status = :from AND #period = :period",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/**
 * Parks the task token of a workflow state waiting for an admin on the job, if the job is still
 * in `status` (UpdateItem, conditional). When it is not, returns the job as it now is (none: missing).
 */
export async function parkTaskToken(
  db: Db,
  jobId: string,
  status: JobStatus,
  taskToken: string,
): Promise<{ parked: true } | { parked: false; job?: JobItem }> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: jobKeys.job(jobId),
        UpdateExpression: "SET #token = :token",
        ConditionExpression: "#status = :status",
        ExpressionAttributeNames: { "#token": "taskToken", "#status": "status" },
        ExpressionAttributeValues: { ":token": taskToken, ":status": status },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { parked: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const item = error.Item ? (unmarshall(error.Item as Parameters<typeof unmarshall>[0]) as JobItem) : undefined;
    return { parked: false, job: item };
  }
}

/** Get a job by id. */
export async function getJobItem(db: Db, jobId: string, consistent = false): Promise<JobItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: jobKeys.job(jobId), ConsistentRead: consistent }));
  return Item as JobItem | undefined;
}

/**
 * A job and the account of the user reading it, in ONE BatchGetItem (one round trip instead of two
 * in a row): the caller checks the account before it looks at the job. Consistent, so a sign-out, a disabling
 * or a removal counts from the next request.
 */
export async function getJobAndUserItems(db: Db, jobId: string, userId: string): Promise<{ job?: JobItem; user?: UserItem }> {
  const items = await batchGetItems<JobItem | UserItem>(db, [jobKeys.job(jobId), userKeys.user(userId)], true);
  return {
    job: items.find((item): item is JobItem => item.type === "Job"),
    user: items.find((item): item is UserItem => item.type === "User"),
  };
}

/** A job's lifecycle events, oldest first. */
export async function listJobEventItems(db: Db, jobId: string): Promise<JobEventItem[]> {
  const events: JobEventItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": jobKeys.job(jobId).pk, ":prefix": jobKeys.eventPrefix() },
        ExclusiveStartKey: start,
      }),
    );
    events.push(...((page.Items ?? []) as JobEventItem[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return events;
}

export interface JobPage {
  items: JobItem[];
  /** Id of the last job returned when more may follow. */
  lastId?: string;
}

/** One owner's jobs, newest first, optionally of one status (filtered within the owner's partition). */
export async function listJobItemsByOwner(
  db: Db,
  ownerId: string,
  opts: { limit: number; afterId?: string; status?: JobStatus },
): Promise<JobPage> {
  const items: JobItem[] = [];
  let start = opts.afterId ? { ...jobKeys.job(opts.afterId), ...jobKeys.byOwner(ownerId, opts.afterId) } : undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ScanIndexForward: false,
        Limit: opts.status ? Math.max(opts.limit, 50) : opts.limit + 1,
        ExpressionAttributeValues: {
          ":pk": jobKeys.ownerPartition(ownerId).gsi1pk,
          ...(opts.status ? { ":status": opts.status } : {}),
        },
        ...(opts.status ? { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" } } : {}),
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as JobItem[]));
    start = page.LastEvaluatedKey as typeof start;
  } while (start && items.length <= opts.limit);
  const more = items.length > opts.limit || start !== undefined;
  const pageItems = items.slice(0, opts.limit);
  return { items: pageItems, lastId: more ? pageItems.at(-1)?.id : undefined };
}

/** Where each shard of a sharded listing stands: the last id returned, or "done". */
export type ShardPositions = Record<number, string>;
const DONE = "done";

/**
 * Jobs of one status (gsi2), or all jobs (gsi3), newest first: every shard is queried in
 * parallel and the results merged by id. Returns the shard positions to continue from.
 */
export async function listJobItemsSharded(
  db: Db,
  opts: { status?: JobStatus; limit: number; positions?: ShardPositions },
): Promise<{ items: JobItem[]; positions?: ShardPositions }> {
  const positions = opts.positions ?? {};
  const perShard = await Promise.all(
    shards().map(async (shard) => {
      const after = positions[shard];
      if (after === DONE) return { shard, items: [] as JobItem[], exhausted: true };
      const partition = opts.status ? jobKeys.statusPartition(opts.status, shard) : jobKeys.allJobsPartition(shard);
      const [pkName, pkValue] = Object.entries(partition)[0] as [string, string];
      const startKey = after
        ? { ...jobKeys.job(after), ...(opts.status ? jobKeys.byStatus(opts.status, after) : jobKeys.inAll(after)) }
        : undefined;
      const input: QueryCommandInput = {
        TableName: db.table,
        IndexName: opts.status ? "gsi2" : "gsi3",
        KeyConditionExpression: `${pkName} = :pk`,
        ExpressionAttributeValues: { ":pk": pkValue },
        ScanIndexForward: false,
        Limit: opts.limit,
        ExclusiveStartKey: startKey,
      };
      const page = await db.doc.send(new QueryCommand(input));
      return { shard, items: (page.Items ?? []) as JobItem[], exhausted: !page.LastEvaluatedKey };
    }),
  );
  const merged = perShard
    .flatMap((s) => s.items)
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, opts.limit);
  const taken = new Set(merged.map((j) => j.id));
  const next: ShardPositions = {};
  let anyLeft = false;
  for (const s of perShard) {
    const kept = s.items.filter((j) => taken.has(j.id));
    const allKept = kept.length === s.items.length;
    if (s.exhausted && allKept) {
      next[s.shard] = DONE;
      continue;
    }
    anyLeft = true;
    const last = kept.at(-1)?.id ?? positions[s.shard];
    if (last) next[s.shard] = last;
  }
  return { items: merged, positions: anyLeft ? next : undefined };
}

/** The ids of every open job (PENDING, APPROVED, RUNNING), a page of each status's shards at a time:
 * what a restarted local stack resumes the executions of. */
export async function* openJobIds(db: Db, pageSize = 100): AsyncGenerator<string> {
  for (const status of OPEN_STATUSES) {
    let positions: ShardPositions | undefined;
    do {
      const page = await listJobItemsSharded(db, { status, limit: pageSize, positions });
      for (const job of page.items) yield job.id;
      positions = page.positions;
    } while (positions);
  }
}
