/** Every key of the job entities (a job, its index entries, its history events, its dependents) is
 * built here. docs/data-model.md ("Jobs") is the map. */

/** Writes to the "jobs by status" and "all jobs" indexes are spread over this many partitions. */
export const JOB_INDEX_SHARDS = 16;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The shard of a job in the sharded indexes: from the ULID's last (random) character. */
export function jobShard(jobId: string): number {
  return Math.max(0, CROCKFORD.indexOf(jobId.at(-1) ?? "0")) % JOB_INDEX_SHARDS;
}

export const shards = (): number[] => Array.from({ length: JOB_INDEX_SHARDS }, (_, i) => i);

export const jobKeys = {
  job: (jobId: string) => ({ pk: `JOB#${jobId}`, sk: "JOB" }),
  /** gsi1: one owner's jobs, newest first by id. */
  byOwner: (ownerId: string, jobId: string) => ({ gsi1pk: `OWNER#${ownerId}`, gsi1sk: jobId }),
  ownerPartition: (ownerId: string) => ({ gsi1pk: `OWNER#${ownerId}` }),
  /** gsi2: jobs of one status, sharded so a burst of submissions never heats one partition. */
  byStatus: (status: string, jobId: string) => ({
    gsi2pk: `STATUS#${status}#${jobShard(jobId)}`,
    gsi2sk: jobId,
  }),
  statusPartition: (status: string, shard: number) => ({ gsi2pk: `STATUS#${status}#${shard}` }),
  /** gsi3: all jobs, sharded the same way. */
  inAll: (jobId: string) => ({ gsi3pk: `JOBS#${jobShard(jobId)}`, gsi3sk: jobId }),
  allJobsPartition: (shard: number) => ({ gsi3pk: `JOBS#${shard}` }),

  /** A job's lifecycle events live in the job's partition, ordered by time. */
  event: (jobId: string, at: string, eventId: string) => ({ pk: `JOB#${jobId}`, sk: `EVENT#${at}#${eventId}` }),
  eventPrefix: () => "EVENT#",
  /** Dependents index: one item per (dependency, dependent) in the dependency's partition. */
  dependent: (dependencyId: string, jobId: string) => ({ pk: `JOB#${dependencyId}`, sk: `DEPENDENT#${jobId}` }),
  dependentPrefix: () => "DEPENDENT#",
} as const;
