/** Keys of the cost entities: per-job usage days, the daily snapshots, and the org-ownership lookup
 * the cost report needs. docs/data-model.md ("Costs, usage and the daily rollup") is the map. */

export const costKeys = {
  /** One job's usage on one UTC day: the rollup of that day reads the whole partition. */
  usageDay: (day: string, jobId: string) => ({ pk: `USAGE#${day}`, sk: `JOB#${jobId}` }),
  usageDayPartition: (day: string) => ({ pk: `USAGE#${day}` }),
  /** gsi1: one owner's usage days, in day order. */
  usageByOwner: (ownerId: string, day: string, jobId: string) => ({ gsi1pk: `USAGE#OWNER#${ownerId}`, gsi1sk: `${day}#${jobId}` }),
  usageOwnerPartition: (ownerId: string) => ({ gsi1pk: `USAGE#OWNER#${ownerId}` }),
  /** gsi3: one org's usage days, in day order. */
  usageByOrg: (orgId: string, day: string, jobId: string) => ({ gsi3pk: `USAGE#ORG#${orgId}`, gsi3sk: `${day}#${jobId}` }),
  usageOrgPartition: (orgId: string) => ({ gsi3pk: `USAGE#ORG#${orgId}` }),
  /** Bounds of an index sort key `<day>#<jobId>` over days [from, to] (ULIDs sort below "~"). */
  usageDayRange: (from: string, to: string) => ({ from: `${from}#`, to: `${to}#~` }),

  /** A day's snapshots live in one partition, replaced as a whole by each rollup of the day. */
  costDayPartition: (day: string) => ({ pk: `COST#${day}` }),
  costSnapshot: (day: string, provider: string, gpuType: string) => ({ pk: `COST#${day}`, sk: `PROVIDER#${provider}#GPU#${gpuType}` }),
  orgCostSnapshot: (day: string, orgId: string) => ({ pk: `COST#${day}`, sk: `ORG#${orgId}` }),
  rollupSummary: (day: string) => ({ pk: `COST#${day}`, sk: "ROLLUP" }),

  /** Membership items of the organizations feature (contract: pk USER#<userId>, sk ORG#<orgId>). */
  membershipPartition: (userId: string) => ({ pk: `USER#${userId}` }),
  membershipPrefix: () => "ORG#",
} as const;
