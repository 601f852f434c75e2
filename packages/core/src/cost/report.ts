/** `GET /costs`: settled usage (the usage days of finished runs) over a range of UTC days, grouped
 * by provider, GPU type, org or day. Admins see every job, org owners their orgs' jobs, everyone
 * their own; money is summed in integer micro-dollars and formatted once. */
import * as z from "zod";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { parseInput } from "../util/fn";
import { milliToHours } from "../util/hours";
import { formatUsd } from "../util/money";
import { DaySchema, daysBetween } from "./snapshot";
import { listOwnedOrgIds, listUsageByOrg, listUsageByOwner, listUsageDayItems } from "./store";
import { DAY_MS, dayStartMs, type UsageDayItem } from "./usage";

export const MAX_REPORT_DAYS = 366;
export const GROUP_BY = ["provider", "gpuType", "org", "day"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const CostReportInput = z
  .strictObject({ from: DaySchema, to: DaySchema, groupBy: z.enum(GROUP_BY).default("day") })
  .refine((r) => r.from <= r.to, { message: "must not be before from", path: ["to"] })
  .refine((r) => (dayStartMs(r.to) - dayStartMs(r.from)) / DAY_MS + 1 <= MAX_REPORT_DAYS, {
    message: `the range must span at most ${MAX_REPORT_DAYS} days`,
    path: ["to"],
  });

/** Admins read each day's partition; this many at a time. */
const DAY_QUERY_CONCURRENCY = 8;

/** The usage days `actor` may see from `from` to `to`, each once. */
async function visibleUsage(core: Core, actor: Actor, from: string, to: string): Promise<UsageDayItem[]> {
  if (actor.role === "admin") {
    const days = daysBetween(from, to);
    const items: UsageDayItem[] = [];
    for (let i = 0; i < days.length; i += DAY_QUERY_CONCURRENCY) {
      const pages = await Promise.all(days.slice(i, i + DAY_QUERY_CONCURRENCY).map((day) => listUsageDayItems(core.db, day)));
      items.push(...pages.flat());
    }
    return items;
  }
  const orgIds = await listOwnedOrgIds(core.db, actor.userId);
  const lists = await Promise.all([
    listUsageByOwner(core.db, actor.userId, from, to),
    ...orgIds.map((orgId) => listUsageByOrg(core.db, orgId, from, to)),
  ]);
  // My own job in an org I own comes back twice.
  const unique = new Map(lists.flat().map((item) => [`${item.day}#${item.jobId}`, item]));
  return [...unique.values()];
}

const groupKey = (groupBy: GroupBy, u: UsageDayItem): Record<string, string | null> => {
  switch (groupBy) {
    case "provider":
      return { provider: u.provider };
    case "gpuType":
      return { gpuType: u.gpuType };
    case "org":
      return { orgId: u.orgId ?? null };
    case "day":
      return { day: u.day };
  }
};

interface Sum {
  key: Record<string, string | null>;
  costMicros: number;
  gpuMilli: number;
  jobs: Set<string>;
}

function add(sum: Sum, u: UsageDayItem) {
  sum.costMicros += u.costMicros;
  sum.gpuMilli += u.gpuMilli;
  sum.jobs.add(u.jobId);
}

const view = (s: Sum) => ({ costUsd: formatUsd(s.costMicros), gpuHours: milliToHours(s.gpuMilli), jobCount: s.jobs.size });

/**
 * Costs from `from` to `to` (UTC days, both included, at most 366) grouped by `groupBy`:
 * items (costUsd, gpuHours, distinct jobCount per group) and their total. Only finished runs count
 * (a job's actual cost is known when it ends); their cost is split across the days they ran.
 */
export async function getCosts(core: Core, actor: Actor, input: unknown) {
  const { from, to, groupBy } = parseInput(CostReportInput, input);
  const usage = await visibleUsage(core, actor, from, to);
  const groups = new Map<string, Sum>();
  const total: Sum = { key: {}, costMicros: 0, gpuMilli: 0, jobs: new Set() };
  for (const u of usage) {
    const key = groupKey(groupBy, u);
    const id = JSON.stringify(key);
    const sum = groups.get(id) ?? { key, costMicros: 0, gpuMilli: 0, jobs: new Set<string>() };
    add(sum, u);
    add(total, u);
    groups.set(id, sum);
  }
  const items = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, sum]) => ({ ...sum.key, ...view(sum) }));
  return { from, to, groupBy, items, total: view(total) };
}
