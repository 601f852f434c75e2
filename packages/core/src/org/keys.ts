/** Every key of the organization entities (orgs, members, claims, budget spend, alerts) is built here. */

export const orgKeys = {
  org: (orgId: string) => ({ pk: `ORG#${orgId}`, sk: "ORG" }),
  /** An org's members live in the org's partition: "members of an org" is one Query. */
  member: (orgId: string, userId: string) => ({ pk: `ORG#${orgId}`, sk: `MEMBER#${userId}` }),
  memberPrefix: () => "MEMBER#",
  /** The same membership seen from the user: "my orgs" is one Query of the user's partition. */
  membership: (userId: string, orgId: string) => ({ pk: `USER#${userId}`, sk: `ORG#${orgId}` }),
  userPartition: (userId: string) => ({ pk: `USER#${userId}` }),
  membershipPrefix: () => "ORG#",

  /** Uniqueness guard: one item per lower-cased org name, pointing at the org. */
  name: (name: string) => ({ pk: `ORGNAME#${normalizeOrgName(name)}`, sk: "ORGNAME" }),
  /** Uniqueness guard and lookup: one item per live invite code, pointing at the org. */
  invite: (code: string) => ({ pk: `INVITE#${code}`, sk: "INVITE" }),

  /** Month-to-date spend of an org in one period ("YYYY-MM"). */
  spend: (orgId: string, period: string) => ({ pk: `ORG#${orgId}`, sk: `SPEND#${period}` }),
  /** One alert per threshold per month; the threshold is zero-padded so alerts sort by it. */
  alert: (orgId: string, period: string, threshold: number) => ({
    pk: `ORG#${orgId}`,
    sk: `ALERT#${period}#${String(threshold).padStart(3, "0")}`,
  }),
  alertPrefix: () => "ALERT#",

  /** Pointer to a job submitted in the org: "the org's jobs, newest first" is one Query. */
  orgJob: (orgId: string, jobId: string) => ({ pk: `ORG#${orgId}`, sk: `JOB#${jobId}` }),
  orgJobPrefix: () => "JOB#",
} as const;

/** Names are unique whatever their letter case (and Unicode form). */
export const normalizeOrgName = (name: string) => name.normalize("NFKC").trim().toLowerCase();
