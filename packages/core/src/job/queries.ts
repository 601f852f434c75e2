/** Reading jobs: one job, its history, the caller's jobs, and every job for admins. */
import * as z from "zod";
import { accountActor } from "../auth/access";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { ForbiddenError, NotFoundError } from "../errors";
import { getMembershipItem } from "../org/store";
import { getUserItem } from "../user/store";
import { decodeCursor, encodeCursor } from "../util/cursor";
import { parseInput } from "../util/fn";
import { isId } from "../util/id";
import { JOB_STATUSES, type JobItem, toJobEvent } from "./job";
import { JOB_INDEX_SHARDS, jobShard } from "./keys";
import { getJobAndUserItems, getJobItem, listJobEventItems, listJobItemsByOwner, listJobItemsSharded } from "./store";
import { jobView, jobViews } from "./views";

export const ListJobsInput = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});

const OwnerCursor = z.object({ after: z.string().refine(isId) });
const ShardCursor = z.object({
  positions: z
    .record(
      z
        .string()
        .regex(/^\d+$/)
        .refine((s) => Number(s) < JOB_INDEX_SHARDS),
      z.union([z.literal("done"), z.string().refine(isId)]),
    )
    // A position can only be a job of that shard: anything else is not a key of its partition.
    .refine((positions) => Object.entries(positions).every(([shard, id]) => id === "done" || jobShard(id) === Number(shard))),
});

/** Its owner, admins, and the owner of the org it was submitted in see a job. */
async function canSee(core: Core, actor: Actor, job: JobItem): Promise<boolean> {
  if (actor.role === "admin" || job.ownerId === actor.userId) return true;
  if (!job.orgId) return false;
  return (await getMembershipItem(core.db, actor.userId, job.orgId))?.role === "owner";
}

/**
 * The job as `caller` may see it. A caller whose account was not read yet (only its token verified)
 * has it read in the same BatchGetItem as the job, and a missing or disabled account is refused
 * before the job is looked at; the stored role, not the token's, decides what it may see.
 */
async function visibleJob(core: Core, caller: Actor, jobId: string): Promise<JobItem> {
  let actor = caller;
  let job: JobItem | undefined;
  if (caller.account) job = isId(jobId) ? await getJobItem(core.db, jobId) : undefined;
  else if (!isId(jobId)) actor = accountActor(await getUserItem(core.db, caller.userId, true), caller);
  else {
    const read = await getJobAndUserItems(core.db, jobId, caller.userId);
    actor = accountActor(read.user, caller);
    job = read.job;
  }
  // Someone else's job is reported exactly like a missing one.
  if (!job || !(await canSee(core, actor, job))) throw new NotFoundError(`Job ${jobId} not found`);
  return job;
}

/** One job (with `waiting` while it waits), if the caller owns it, owns its org or is an admin. */
export const getJob = async (core: Core, actor: Actor, jobId: string) => jobView(core, await visibleJob(core, actor, jobId));

/** A job's lifecycle history, oldest first. */
export async function getJobEvents(core: Core, actor: Actor, jobId: string) {
  await visibleJob(core, actor, jobId);
  return { items: (await listJobEventItems(core.db, jobId)).map(toJobEvent) };
}

/** The job's workflow execution (admins): its status, and on the local engine its state history. */
export async function getJobWorkflow(core: Core, actor: Actor, jobId: string) {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  await visibleJob(core, actor, jobId);
  return { jobId, execution: (await core.workflow.describe(jobId)) ?? null };
}

/** The caller's own jobs, newest first. */
export async function listMyJobs(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(ListJobsInput, body);
  const after = input.cursor ? decodeCursor(OwnerCursor, input.cursor).after : undefined;
  const page = await listJobItemsByOwner(core.db, actor.userId, { limit: input.limit, afterId: after, status: input.status });
  return { items: await jobViews(core, page.items), nextCursor: page.lastId ? encodeCursor({ after: page.lastId }) : null };
}

/** Every job (admins), newest first, optionally of one status. */
export async function listAllJobs(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(ListJobsInput, body);
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  const positions = input.cursor ? decodeCursor(ShardCursor, input.cursor).positions : undefined;
  const page = await listJobItemsSharded(core.db, { status: input.status, limit: input.limit, positions });
  return { items: await jobViews(core, page.items), nextCursor: page.positions ? encodeCursor({ positions: page.positions }) : null };
}
