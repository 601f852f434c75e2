/** Every key of the quota entities (a user's month of GPU-hours, the monthly reset's progress
 * record) is built here. docs/data-model.md ("Users and quotas") is the map. */

export const quotaKeys = {
  /** A user's quota months live in the user's partition. */
  quota: (userId: string, period: string) => ({ pk: `USER#${userId}`, sk: `QUOTA#${period}` }),
  quotaPrefix: () => "QUOTA#",
  /** What limits a user's submissions: how many of their jobs are open (MAX_OPEN_JOBS_PER_USER) and
   * the submission rate's theoretical arrival time (quota/rate.ts). */
  submissionLimits: (userId: string) => ({ pk: `USER#${userId}`, sk: "LIMITS" }),
  /** One reset run per period. */
  resetRun: (period: string) => ({ pk: `QUOTARESET#${period}`, sk: "QUOTARESET" }),
} as const;
