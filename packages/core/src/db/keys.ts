/** Every key of the single table is built here and nowhere else; docs/data-model.md is the map. */

/** Writes to the "jobs by status" and "all jobs" indexes are spread over this many partitions. */
export const JOB_INDEX_SHARDS = 16;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The shard of a job in the sharded indexes: from the ULID's last (random) character. */
export function jobShard(jobId: string): number {
  return Math.max(0, CROCKFORD.indexOf(jobId.at(-1) ?? "0")) % JOB_INDEX_SHARDS;
}

export const shards = (): number[] => Array.from({ length: JOB_INDEX_SHARDS }, (_, i) => i);

export const keys = {
  /** Never written: the health check's GetItem only proves the table answers. */
  health: () => ({ pk: "HEALTH", sk: "HEALTH" }),
  user: (userId: string) => ({ pk: `USER#${userId}`, sk: "USER" }),
  /** gsi1: every user, in id (creation) order. Registration is rare, one partition is plenty. */
  userList: (userId: string) => ({ gsi1pk: "USERS", gsi1sk: userId }),
  usersPartition: () => ({ gsi1pk: "USERS" }),

  /** Uniqueness guard: one item per lower-cased email, pointing at the user. */
  email: (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: "EMAIL" }),

  quota: (userId: string, period: string) => ({ pk: `USER#${userId}`, sk: `QUOTA#${period}` }),
  quotaPrefix: () => "QUOTA#",

  job: (jobId: string) => ({ pk: `JOB#${jobId}`, sk: "JOB" }),
  /** gsi1: one owner's jobs, newest first by id. */
  jobByOwner: (ownerId: string, jobId: string) => ({ gsi1pk: `OWNER#${ownerId}`, gsi1sk: jobId }),
  ownerPartition: (ownerId: string) => ({ gsi1pk: `OWNER#${ownerId}` }),
  /** gsi2: jobs of one status, sharded so a burst of submissions never heats one partition. */
  jobByStatus: (status: string, jobId: string) => ({
    gsi2pk: `STATUS#${status}#${jobShard(jobId)}`,
    gsi2sk: jobId,
  }),
  statusPartition: (status: string, shard: number) => ({ gsi2pk: `STATUS#${status}#${shard}` }),
  /** gsi3: all jobs, sharded the same way. */
  jobInAll: (jobId: string) => ({ gsi3pk: `JOBS#${jobShard(jobId)}`, gsi3sk: jobId }),
  allJobsPartition: (shard: number) => ({ gsi3pk: `JOBS#${shard}` }),

  /** A job's lifecycle events live in the job's partition, ordered by time. */
  jobEvent: (jobId: string, at: string, eventId: string) => ({ pk: `JOB#${jobId}`, sk: `EVENT#${at}#${eventId}` }),
  jobEventPrefix: () => "EVENT#",
  /** Dependents index: one item per (dependency, dependent) in the dependency's partition. */
  jobDependent: (dependencyId: string, jobId: string) => ({ pk: `JOB#${dependencyId}`, sk: `DEPENDENT#${jobId}` }),
  jobDependentPrefix: () => "DEPENDENT#",

  idempotency: (userId: string, key: string) => ({ pk: `IDEMPOTENCY#${userId}#${key}`, sk: "IDEMPOTENCY" }),
} as const;
