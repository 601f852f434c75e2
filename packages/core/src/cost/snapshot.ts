/** The daily cost snapshots (per day × provider × GPU type, per day × org) and the rollup summary,
 * as stored and as API clients see them. */
import * as z from "zod";
import { type MilliHours, milliToHours } from "../util/hours";
import { formatUsd, type Micros } from "../util/money";
import { DAY_MS, dayStartMs } from "./usage";

/** A real UTC calendar day, YYYY-MM-DD. */
export const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((day) => {
    const ms = dayStartMs(day);
    return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
  }, "must be a real calendar date");

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let ms = dayStartMs(from); ms <= dayStartMs(to); ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

interface Totals {
  costMicros: Micros;
  gpuMilli: MilliHours;
  /** Distinct jobs that ran that day. */
  jobCount: number;
}

export interface CostSnapshotItem extends Totals {
  pk: string;
  sk: string;
  type: "CostSnapshot";
  day: string;
  provider: string;
  gpuType: string;
}

export interface OrgCostSnapshotItem extends Totals {
  pk: string;
  sk: string;
  type: "OrgCostSnapshot";
  day: string;
  orgId: string;
}

/** What the last rollup of a day read and when; its runId guards against two rollups interleaving. */
export interface CostRollupItem {
  pk: string;
  sk: string;
  type: "CostRollup";
  day: string;
  runId: string;
  /** Items the rollup read: usage days of the day + jobs RUNNING when it ran. */
  jobsRead: number;
  usageItemsRead: number;
  runningJobsRead: number;
  at: string;
}

export type CostDayItem = CostSnapshotItem | OrgCostSnapshotItem | CostRollupItem;

const totalsView = (t: Totals) => ({ costUsd: formatUsd(t.costMicros), gpuHours: milliToHours(t.gpuMilli), jobCount: t.jobCount });

/** A snapshot as API clients see it. */
export function toCostSnapshot(item: CostSnapshotItem | OrgCostSnapshotItem) {
  return item.type === "CostSnapshot"
    ? { day: item.day, kind: "providerGpu" as const, provider: item.provider, gpuType: item.gpuType, ...totalsView(item) }
    : { day: item.day, kind: "org" as const, orgId: item.orgId, ...totalsView(item) };
}
