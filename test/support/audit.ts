/** Test-only reads of a whole table: its items in a stable order, and an audit of the invariants
 * every transaction keeps (quota counters match the jobs, every job has its history and its
 * dependents-index items, every idempotency record names its job), so a fault test can prove nothing was half-written. */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../../packages/core/src/db/client";
import type { IdempotencyItem } from "../../packages/core/src/idempotency/idempotency";
import { isOpen, type JobDependentItem, type JobEventItem, type JobItem } from "../../packages/core/src/job/job";
import type { OrgSpendItem } from "../../packages/core/src/org/org";
import type { QuotaItem } from "../../packages/core/src/quota/quota";

type Item = Record<string, unknown> & { pk: string; sk: string; type?: string };

/** Every item of the table, sorted by key (a Scan: test code only, never a request path). */
export async function readTable(db: Db): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}\u0000${a.sk}`.localeCompare(`${b.pk}\u0000${b.sk}`));
}

/** Every broken invariant, as readable lines; an empty list means the table is consistent. */
export async function auditTable(db: Db): Promise<string[]> {
  const items = await readTable(db);
  const of = <T>(type: string) => items.filter((i) => i.type === type) as unknown as T[];
  const jobs = of<JobItem>("Job");
  const events = of<JobEventItem>("JobEvent");
  const problems: string[] = [];

  for (const quota of of<QuotaItem>("Quota")) {
    const mine = jobs.filter((j) => j.ownerId === quota.userId && j.quotaPeriod === quota.period);
    const reserved = mine.filter((j) => isOpen(j.status)).reduce((sum, j) => sum + j.reservedMilli, 0);
    const used = mine.reduce((sum, j) => sum + (j.usedMilli ?? 0), 0);
    const where = `quota ${quota.userId} ${quota.period}`;
    if (quota.reservedMilli !== reserved) problems.push(`${where}: reserved ${quota.reservedMilli}, open jobs hold ${reserved}`);
    if (quota.usedMilli !== used) problems.push(`${where}: used ${quota.usedMilli}, ended jobs used ${used}`);
    if (quota.remainingMilli !== quota.limitMilli - quota.reservedMilli - quota.usedMilli) problems.push(`${where}: remaining out of step`);
  }
  for (const job of jobs) {
    const history = events.filter((e) => e.jobId === job.id);
    if (history[0]?.status !== "PENDING") problems.push(`job ${job.id}: history does not start with PENDING`);
    if (history.at(-1)?.status !== job.status) problems.push(`job ${job.id}: is ${job.status}, last event ${history.at(-1)?.status}`);
    if (isOpen(job.status) && !of<QuotaItem>("Quota").some((q) => q.userId === job.ownerId && q.period === job.quotaPeriod)) {
      problems.push(`job ${job.id}: open without a quota item`);
    }
  }
  // Each user's open-jobs count (MAX_OPEN_JOBS_PER_USER) is their open jobs.
  for (const count of items.filter((i) => i.type === "SubmissionLimits")) {
    const userId = String(count.pk).slice("USER#".length);
    const open = jobs.filter((j) => j.ownerId === userId && isOpen(j.status)).length;
    if (count.open !== open) problems.push(`open jobs of ${userId}: counted ${count.open}, ${open} open`);
  }
  // An org's month spend: the estimates of its open jobs plus the actual costs of its ended ones.
  for (const spend of of<OrgSpendItem>("OrgSpend")) {
    const mine = jobs.filter((j) => j.orgId === spend.orgId && j.budgetPeriod === spend.period);
    const committed = mine.reduce((sum, j) => sum + (isOpen(j.status) ? j.estimatedCostMicros : (j.actualCostMicros ?? 0)), 0);
    const where = `spend ${spend.orgId} ${spend.period}`;
    if (spend.committedMicros !== committed) problems.push(`${where}: committed ${spend.committedMicros}, jobs hold ${committed}`);
    if (spend.remainingMicros !== (spend.budgetMicros ?? 0) - spend.committedMicros) problems.push(`${where}: remaining out of step`);
  }
  // The dependents index holds exactly one item per (dependency, dependent) of every job's dependsOn.
  const dependents = of<JobDependentItem>("JobDependent");
  for (const job of jobs) {
    for (const dep of job.dependsOn ?? []) {
      if (!dependents.some((d) => d.jobId === job.id && d.dependsOn === dep))
        problems.push(`job ${job.id}: no dependents-index item under ${dep}`);
    }
  }
  for (const d of dependents) {
    if (!jobs.some((j) => j.id === d.jobId && j.dependsOn.includes(d.dependsOn)))
      problems.push(`dependent ${d.pk} ${d.sk}: no such dependency`);
  }
  for (const record of of<IdempotencyItem>("Idempotency")) {
    if (!jobs.some((j) => j.id === record.jobId && j.ownerId === record.userId))
      problems.push(`idempotency ${record.key}: no job ${record.jobId}`);
  }
  return problems;
}
