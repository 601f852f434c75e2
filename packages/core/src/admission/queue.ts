/** The admission queue index: per GPU type, one partition holding an entry for each APPROVED job
 * (`WAIT#<jobId>`) and each RUNNING job that holds a pool (`RUN#<jobId>`). Entries are written and
 * removed in the same transaction as the job's status change (transitions.ts), so admission reads
 * exactly the jobs of its GPU type, with one strongly consistent Query, and never the other types'
 * or any closed job. */
import type { GpuType } from "../catalog/catalog";
import type { Db } from "../db/client";
import { keys } from "../db/keys";
import { queryAll } from "../db/read";
import type { TransactItem } from "../db/transact";
import type { JobItem, JobStatus } from "../job/job";

export const queueKeys = {
  partition: (gpuType: string) => ({ pk: `QUEUE#${gpuType}` }),
  waiting: (gpuType: string, jobId: string) => ({ pk: `QUEUE#${gpuType}`, sk: `WAIT#${jobId}` }),
  running: (gpuType: string, jobId: string) => ({ pk: `QUEUE#${gpuType}`, sk: `RUN#${jobId}` }),
};

export interface QueueEntryItem {
  pk: string;
  sk: string;
  type: "QueueEntry";
  jobId: string;
  gpuType: GpuType;
}

const put = (db: Db, key: { pk: string; sk: string }, job: Pick<JobItem, "id" | "gpuType">): TransactItem => ({
  Put: { TableName: db.table, Item: { ...key, type: "QueueEntry", jobId: job.id, gpuType: job.gpuType } satisfies QueueEntryItem },
});
const del = (db: Db, key: { pk: string; sk: string }): TransactItem => ({ Delete: { TableName: db.table, Key: key } });

/** The queue index's share of a transition of `job` to `to` (the job as read; `changes` as written). */
export function queueIndexItems(db: Db, job: JobItem, to: JobStatus, changes: Partial<JobItem>): TransactItem[] {
  const items: TransactItem[] = [];
  if (to === "APPROVED" && job.status !== "APPROVED") items.push(put(db, queueKeys.waiting(job.gpuType, job.id), job));
  if (job.status === "APPROVED" && to !== "APPROVED") items.push(del(db, queueKeys.waiting(job.gpuType, job.id)));
  if (to === "RUNNING" && changes.allocation) items.push(put(db, queueKeys.running(job.gpuType, job.id), job));
  if (job.status === "RUNNING" && job.allocation && to !== "RUNNING") items.push(del(db, queueKeys.running(job.gpuType, job.id)));
  return items;
}

/** Ids of the APPROVED jobs and of the pool-holding RUNNING jobs of `gpuType` (one consistent Query, all pages). */
export async function listQueueJobIds(db: Db, gpuType: GpuType): Promise<{ waiting: string[]; running: string[] }> {
  const entries = await queryAll<QueueEntryItem>(db, {
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": queueKeys.partition(gpuType).pk },
    ConsistentRead: true,
  });
  const ids = (prefix: string) => entries.filter((e) => e.sk.startsWith(prefix)).map((e) => e.jobId);
  return { waiting: ids("WAIT#"), running: ids("RUN#") };
}

/**
 * Transaction items restoring a missing entry for `job` (jobs from before the index existed), only
 * while the job is still in the status the entry stands for: its ConditionCheck comes first.
 */
export function restoreQueueEntryItems(db: Db, job: JobItem): TransactItem[] | undefined {
  const entry =
    job.status === "APPROVED" ? queueKeys.waiting(job.gpuType, job.id) : job.status === "RUNNING" && job.allocation ? queueKeys.running(job.gpuType, job.id) : undefined;
  if (!entry) return undefined;
  return [
    {
      ConditionCheck: {
        TableName: db.table,
        Key: keys.job(job.id),
        ConditionExpression: "#status = :status",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": job.status },
      },
    },
    put(db, entry, job),
  ];
}
