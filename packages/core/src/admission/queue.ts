/** The admission queue index: per GPU type, one partition (`QUEUE#<gpuType>`) holding
 * - `WAIT#<rank>#<jobId>` for each APPROVED job whose dependencies are all COMPLETED, sorted in
 *   admission order (priority rank, then the ULID, i.e. age), carrying what planning needs (demand,
 *   estimate, eligibility), so a pass reads the head of the queue with one Query and no job reads;
 * - `HOLD#<jobId>` for each APPROVED job still waiting for dependencies (promoted to WAIT# by the
 *   reaction to its last dependency completing);
 * - `RUN#<jobId>` for each RUNNING job that holds a pool, with its allocation and expected end;
 * - `PLAN`: the last pass's plan of the window (position and expected start per job), which the
 *   "why is it waiting" views read instead of planning.
 * WAIT#/HOLD#/RUN# entries are written and removed in the same transaction as the job's status
 * change (transitions.ts), so they never disagree with the jobs for long: a start or cancel of a
 * job whose entry a pass read is a conditional transition and simply fails when it moved on. */
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { GpuType, Provider } from "../catalog/catalog";
import type { ClusterItem } from "../cluster/cluster";
import type { Db } from "../db/client";
import { queryAll } from "../db/read";
import type { TransactItem } from "../db/transact";
import type { JobItem, JobStatus, Priority } from "../job/job";
import { jobKeys } from "../job/keys";
import { queueKeys } from "./keys";

/** What planning needs of a waiting job, copied from the job when it is approved. */
export interface WaitEntryItem {
  pk: string;
  sk: string;
  type: "QueueEntry";
  jobId: string;
  gpuType: GpuType;
  ownerId: string;
  priority: Priority;
  gpus: number;
  cpu: number;
  ramGb: number;
  estimatedHours: number;
  provider?: Provider;
  orgId?: string;
  clusterId?: string;
  dependsOn?: string[];
}

/** A RUNNING job holding a pool: what it holds and since when. */
export interface RunEntryItem {
  pk: string;
  sk: string;
  type: "QueueEntry";
  jobId: string;
  gpuType: GpuType;
  clusterId: string;
  gpus: number;
  cpu: number;
  ramGb: number;
  startedAt: string;
  estimatedHours: number;
}

/** One job's place in the last plan: [pool index in `pools`, position in that pool's queue, expected start (epoch ms, null: never/draining)]. */
export type PlannedPlace = [number, number, number | null];

/** A pool as a plan keeps it: what the views describe and match a job against, without its keys. */
export type PlanPool = Omit<ClusterItem, "pk" | "sk" | "gsi1pk" | "gsi1sk" | "gsi3pk" | "gsi3sk">;

export interface PlanItem {
  pk: string;
  sk: "PLAN";
  type: "QueuePlan";
  gpuType: GpuType;
  /** When the pass planned (epoch ms). */
  atMs: number;
  /** The pools the pass planned, as it read them (ids in plans stored before they carried the pools). */
  pools: (PlanPool | string)[];
  /** The window's jobs (WAIT# entries the pass read), by job id. */
  places: Record<string, PlannedPlace>;
  /** The sort key of the last WAIT# entry the pass read when the window was full (jobs after it were not planned). */
  windowEnd?: string;
}

const waitEntry = (job: JobItem): WaitEntryItem => ({
  ...queueKeys.waiting(job.gpuType, job),
  type: "QueueEntry",
  jobId: job.id,
  gpuType: job.gpuType,
  ownerId: job.ownerId,
  priority: job.priority,
  gpus: job.gpuCount,
  cpu: job.cpu ?? 0,
  ramGb: job.ramGb ?? 0,
  estimatedHours: job.estimatedHours,
  ...(job.provider ? { provider: job.provider } : {}),
  ...(job.orgId ? { orgId: job.orgId } : {}),
  ...(job.clusterId ? { clusterId: job.clusterId } : {}),
  ...(job.dependsOn?.length ? { dependsOn: job.dependsOn } : {}),
});

const runEntry = (job: JobItem, allocation: NonNullable<JobItem["allocation"]>, startedAt: string): RunEntryItem => ({
  ...queueKeys.running(job.gpuType, job.id),
  type: "QueueEntry",
  jobId: job.id,
  gpuType: job.gpuType,
  clusterId: allocation.clusterId,
  gpus: allocation.gpus,
  cpu: allocation.cpu,
  ramGb: allocation.ramGb,
  startedAt,
  estimatedHours: job.estimatedHours,
});

const put = (db: Db, item: object): TransactItem => ({ Put: { TableName: db.table, Item: item } });
const del = (db: Db, key: { pk: string; sk: string }): TransactItem => ({ Delete: { TableName: db.table, Key: key } });

/**
 * The queue index's share of a transition of `job` (as read) to `to` (`changes` as written): an
 * approval adds the WAIT# entry (HOLD# when it has dependencies: they are checked by a reaction),
 * leaving APPROVED removes both, a start on a pool adds RUN#, the end of a pool-holding run removes it.
 */
export function queueIndexItems(db: Db, job: JobItem, to: JobStatus, changes: Partial<JobItem>): TransactItem[] {
  const items: TransactItem[] = [];
  if (to === "APPROVED" && job.status !== "APPROVED") {
    items.push(
      job.dependsOn?.length
        ? put(db, { ...queueKeys.held(job.gpuType, job.id), type: "QueueEntry", jobId: job.id, gpuType: job.gpuType })
        : put(db, waitEntry(job)),
    );
  }
  if (job.status === "APPROVED" && to !== "APPROVED") {
    items.push(del(db, queueKeys.waiting(job.gpuType, job)));
    if (job.dependsOn?.length) items.push(del(db, queueKeys.held(job.gpuType, job.id)));
  }
  if (to === "RUNNING" && changes.allocation)
    items.push(put(db, runEntry(job, changes.allocation, changes.startedAt ?? new Date().toISOString())));
  if (job.status === "RUNNING" && job.allocation && to !== "RUNNING") items.push(del(db, queueKeys.running(job.gpuType, job.id)));
  return items;
}

/**
 * Moves an APPROVED job whose dependencies have all COMPLETED from HOLD# to WAIT#, only while the
 * job is still APPROVED (its ConditionCheck comes first). Idempotent.
 */
export function promoteItems(db: Db, job: JobItem): TransactItem[] {
  return [
    {
      ConditionCheck: {
        TableName: db.table,
        Key: jobKeys.job(job.id),
        ConditionExpression: "#status = :approved",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":approved": "APPROVED" },
      },
    },
    del(db, queueKeys.held(job.gpuType, job.id)),
    put(db, waitEntry(job)),
  ];
}

/** The pool-holding RUNNING jobs of `gpuType` (one consistent Query of the RUN# entries, all pages). */
export const listRunEntries = (db: Db, gpuType: GpuType) =>
  queryAll<RunEntryItem>(db, {
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": queueKeys.partition(gpuType).pk, ":prefix": queueKeys.runningPrefix },
    ConsistentRead: true,
  });

/**
 * The head of `gpuType`'s queue in admission order: at most `limit` WAIT# entries (one consistent
 * Query page). `full` says whether more may follow; `lastSk` is the last entry's sort key.
 */
export async function listWaitWindow(
  db: Db,
  gpuType: GpuType,
  limit: number,
): Promise<{ entries: WaitEntryItem[]; full: boolean; lastSk?: string }> {
  const entries: WaitEntryItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": queueKeys.partition(gpuType).pk, ":prefix": queueKeys.waitingPrefix },
        ConsistentRead: true,
        Limit: limit - entries.length,
        ExclusiveStartKey: start,
      }),
    );
    entries.push(...((page.Items ?? []) as WaitEntryItem[]));
    start = page.LastEvaluatedKey;
  } while (start && entries.length < limit);
  return { entries, full: entries.length >= limit && start !== undefined, lastSk: entries.at(-1)?.sk };
}

/** Entry sort keys as written today: a WAIT# key carries its priority rank. */
const CURRENT_KEY = /^(WAIT#\d#|HOLD#|RUN#)/;

/**
 * Ids of every WAIT#, HOLD# and RUN# entry of `gpuType` (the reconciler's check; all pages), and
 * the keys of entries in an older layout (a WAIT# key without its rank), to be rewritten.
 */
export async function listQueueJobIds(
  db: Db,
  gpuType: GpuType,
): Promise<{ waiting: string[]; held: string[]; running: string[]; outdated: { pk: string; sk: string }[] }> {
  const entries = await queryAll<{ pk: string; sk: string; jobId?: string }>(db, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": queueKeys.partition(gpuType).pk },
    ProjectionExpression: "pk, sk, jobId",
    ConsistentRead: true,
  });
  const current = entries.filter((e) => e.jobId && CURRENT_KEY.test(e.sk));
  const ids = (prefix: string) => current.filter((e) => e.sk.startsWith(prefix)).map((e) => e.jobId!);
  return {
    waiting: ids(queueKeys.waitingPrefix),
    held: ids(queueKeys.heldPrefix),
    running: ids(queueKeys.runningPrefix),
    outdated: entries.filter((e) => e.jobId && !CURRENT_KEY.test(e.sk)).map(({ pk, sk }) => ({ pk, sk })),
  };
}

/** Deletes an entry in an older layout (see listQueueJobIds). */
export const deleteQueueEntryItem = (db: Db, key: { pk: string; sk: string }): TransactItem => del(db, key);

/** The last pass's plan of `gpuType` (eventually consistent GetItem: a view may be a moment behind). */
export async function getPlanItem(db: Db, gpuType: GpuType): Promise<PlanItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: queueKeys.plan(gpuType) }));
  return Item as PlanItem | undefined;
}

/** Stores a pass's plan, unless a later pass already stored one (conditional on `atMs`). */
export async function putPlanItem(db: Db, plan: Omit<PlanItem, "pk" | "sk" | "type">): Promise<void> {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...queueKeys.plan(plan.gpuType), type: "QueuePlan", ...plan },
        ConditionExpression: "attribute_not_exists(atMs) OR atMs <= :at",
        ExpressionAttributeValues: { ":at": plan.atMs },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
  }
}

/**
 * Transaction items restoring a missing entry for `job` (a write that never landed, or jobs from
 * before the index carried planning data), only while the job is still in the status the entry
 * stands for: its ConditionCheck comes first. `ready`: an APPROVED job's dependencies are all COMPLETED.
 */
export function restoreQueueEntryItems(db: Db, job: JobItem, ready: boolean): TransactItem[] | undefined {
  const entry =
    job.status === "APPROVED"
      ? ready
        ? waitEntry(job)
        : { ...queueKeys.held(job.gpuType, job.id), type: "QueueEntry", jobId: job.id, gpuType: job.gpuType }
      : job.status === "RUNNING" && job.allocation
        ? runEntry(job, job.allocation, job.startedAt ?? job.updatedAt)
        : undefined;
  if (!entry) return undefined;
  return [
    {
      ConditionCheck: {
        TableName: db.table,
        Key: jobKeys.job(job.id),
        ConditionExpression: "#status = :status",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": job.status },
      },
    },
    put(db, entry),
  ];
}
