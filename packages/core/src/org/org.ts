/** The organization entities: org, member (both directions), month spend and budget alert, their
 * input schemas and the views API clients see. */
import * as z from "zod";
import { formatUsd, type Micros } from "../util/money";
import { plainText } from "../util/text";

export const ORG_ROLES = ["owner", "member"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Budget thresholds (percent of the monthly budget) that record an alert once per month. */
export const ALERT_THRESHOLDS = [80, 100] as const;
export type AlertThreshold = (typeof ALERT_THRESHOLDS)[number];

/** The largest monthly budget accepted: 10 million USD. */
export const MAX_MONTHLY_BUDGET_MICROS = 10_000_000 * 1_000_000;

export interface OrgItem {
  pk: string;
  sk: string;
  type: "Org";
  id: string;
  name: string;
  inviteCode: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  monthlyBudgetMicros?: Micros;
  /** Its private pools, counted by each creation (MAX_POOLS_PER_ORG). Orgs made before the count
   * existed have none until their next pool creation counts their pools (cluster/service.ts). */
  poolCount?: number;
}

export interface OrgMemberItem {
  pk: string;
  sk: string;
  type: "OrgMember";
  orgId: string;
  userId: string;
  role: OrgRole;
  joinedAt: string;
}

export interface MembershipItem {
  pk: string;
  sk: string;
  type: "Membership";
  orgId: string;
  userId: string;
  role: OrgRole;
  orgName: string;
  joinedAt: string;
}

/** Month-to-date spend of an org: settled costs plus the estimates of its open jobs. */
export interface OrgSpendItem {
  pk: string;
  sk: string;
  type: "OrgSpend";
  orgId: string;
  period: string;
  committedMicros: Micros;
  /** The org's budget for this month; absent while the org has none. */
  budgetMicros?: Micros;
  /** (budget or 0) − committed, kept in step so the budget check is one condition (conditions cannot add). */
  remainingMicros: Micros;
  updatedAt: string;
}

export interface BudgetAlertItem {
  pk: string;
  sk: string;
  type: "BudgetAlert";
  orgId: string;
  period: string;
  threshold: AlertThreshold;
  spendMicros: Micros;
  budgetMicros: Micros;
  at: string;
}

export const CreateOrgInput = z.strictObject({
  name: plainText(z.string().trim().min(2).max(64)),
});

/** Invite codes are 22 base64url characters (128 random bits); anything else cannot be one. */
export const INVITE_CODE = /^[A-Za-z0-9_-]{22}$/;
// Any text is a code to look up: one that no org has, whatever its shape, is "not found" (404).
export const JoinOrgInput = z.strictObject({ inviteCode: z.string().trim().min(1, "must not be empty").max(256) });

/** "1500", "1500.5", "1500.50" or 1500.5: USD with at most 2 decimals, more than 0, at most 10 million. */
const UsdAmount = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const text = typeof value === "number" ? String(value) : value;
    const match = /^(\d{1,8})(?:\.(\d{1,2}))?$/.exec(text);
    if (!match) {
      ctx.addIssue({ code: "custom", message: "must be a USD amount with at most 2 decimals" });
      return z.NEVER;
    }
    return Number(match[1]) * 1_000_000 + Number((match[2] ?? "").padEnd(2, "0")) * 10_000;
  })
  .refine((micros) => micros > 0, "must be more than 0")
  .refine((micros) => micros <= MAX_MONTHLY_BUDGET_MICROS, "must be at most 10000000");

export const SetBudgetInput = z.strictObject({ monthlyUsd: UsdAmount });

/** An org as one of its members sees it; the invite code and budget only for owners. */
export function toOrg(org: OrgItem, role: OrgRole | undefined) {
  const owner = role === "owner";
  return {
    id: org.id,
    name: org.name,
    role,
    inviteCode: owner ? org.inviteCode : undefined,
    monthlyBudgetUsd: owner && org.monthlyBudgetMicros !== undefined ? formatUsd(org.monthlyBudgetMicros) : undefined,
    createdBy: org.createdBy,
    createdAt: org.createdAt,
  };
}

export const toMember = (m: OrgMemberItem) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt });

export const toSpend = (
  orgId: string,
  period: string,
  spend: Pick<OrgSpendItem, "committedMicros" | "budgetMicros" | "remainingMicros"> | undefined,
  budgetMicros?: Micros,
) => {
  const committed = spend?.committedMicros ?? 0;
  const budget = spend?.budgetMicros ?? budgetMicros;
  return {
    orgId,
    period,
    monthlyBudgetUsd: budget === undefined ? undefined : formatUsd(budget),
    spendUsd: formatUsd(committed),
    remainingUsd: budget === undefined ? undefined : formatUsd(budget - committed),
  };
};

/** Field names as in the "Budget Threshold Crossed" event's detail. */
export const toAlert = (a: BudgetAlertItem) => ({
  orgId: a.orgId,
  period: a.period,
  thresholdPercent: a.threshold,
  spendUsd: formatUsd(a.spendMicros),
  budgetUsd: formatUsd(a.budgetMicros),
  at: a.at,
});
