/** Usage days: what a finished run used on each UTC day it touched. Pure functions (splitting a run
 * into days, exact integer allocation) and the items the terminal transition writes with the job. */
import type { Catalog, GpuType } from "../catalog/catalog";
import type { Core } from "../core";
import type { Db } from "../db/client";
import type { TransactItem } from "../db/transact";
import type { JobItem } from "../job/job";
import { hoursToMilli, type MilliHours } from "../util/hours";
import type { Micros } from "../util/money";
import { costKeys } from "./keys";

export const DAY_MS = 86_400_000;

/**
 * At most this many usage items per run, so the terminal transaction (job, event, quota and the
 * other pieces' items) stays far below DynamoDB's 100-item limit. With the default
 * SIMULATION_SECONDS_PER_HOUR (3600) the longest run (720 h) touches 31 days; only a slower
 * simulation can touch more, and then the days past the cap are folded into the last item.
 */
export const MAX_USAGE_DAYS = 40;

/** Provider name of usage whose provider cannot be told (no price matches the catalog). */
export const UNKNOWN_PROVIDER = "unknown";

export interface UsageDayItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  gsi3pk?: string;
  gsi3sk?: string;
  type: "UsageDay";
  jobId: string;
  ownerId: string;
  orgId?: string;
  provider: string;
  gpuType: GpuType;
  gpuCount: number;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  /** This day's share of the job's GPU milli-hours (usedMilli). */
  gpuMilli: MilliHours;
  /** This day's share of the job's actual cost. */
  costMicros: Micros;
  startedAt: string;
  finishedAt: string;
}

/** The UTC day (YYYY-MM-DD) of an instant in epoch milliseconds. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** Epoch milliseconds of a UTC day's first instant. */
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
/** The UTC day before `day`. */
export const previousDay = (day: string): string => dayOf(dayStartMs(day) - DAY_MS);

/**
 * The wall-clock window in which a run accrued simulated GPU time: from its start until it ended or
 * reached its estimate (a run never uses more than its estimate; see transitions.runMilliHours).
 * With a factor of 0 the run is instantaneous: an empty window at its start.
 */
export function accrualWindow(startMs: number, endMs: number, estimateMilli: MilliHours, secondsPerHour: number): [number, number] {
  if (secondsPerHour === 0) return [startMs, startMs];
  // milli-hours = ms / secondsPerHour, so the estimate is reached after estimateMilli × secondsPerHour ms.
  const estimateEnd = startMs + Math.ceil(estimateMilli * secondsPerHour);
  return [startMs, Math.max(startMs, Math.min(endMs, estimateEnd))];
}

/** Milliseconds of [from, to) that fall in UTC day `day`. */
export function overlapWithDay([from, to]: [number, number], day: string): number {
  const start = dayStartMs(day);
  return Math.max(0, Math.min(to, start + DAY_MS) - Math.max(from, start));
}

/**
 * The days a window touches, each with its milliseconds in the window (an empty window: its day,
 * weight 1). More than `maxDays` days: the ones past the cap are folded into the last one.
 */
export function daysOfWindow(window: [number, number], maxDays = MAX_USAGE_DAYS): { day: string; ms: number }[] {
  const [from, to] = window;
  if (to <= from) return [{ day: dayOf(from), ms: 1 }];
  const days: { day: string; ms: number }[] = [];
  for (let start = dayStartMs(dayOf(from)); start < to; start += DAY_MS) {
    const day = dayOf(start);
    days.push({ day, ms: overlapWithDay(window, day) });
  }
  if (days.length <= maxDays) return days;
  const kept = days.slice(0, maxDays - 1);
  const folded = days.slice(maxDays - 1);
  kept.push({ day: folded.at(-1)!.day, ms: folded.reduce((sum, d) => sum + d.ms, 0) });
  return kept;
}

/**
 * Splits the integer `total` in proportion to `weights` by largest remainder: each share is the
 * floor of its exact quota, and the units left go to the largest fractional parts (earliest first
 * on ties), so the shares are integers that sum to `total` exactly. BigInt keeps it exact.
 */
export function allocate(total: number, weights: number[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new Error(`Not a non-negative integer: ${total}`);
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0)) throw new Error(`Weights must be non-negative integers`);
  const sum = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (sum === 0n) throw new Error("Weights must not all be 0");
  const exact = weights.map((w) => BigInt(total) * BigInt(w));
  const shares = exact.map((e) => e / sum);
  let left = total - Number(shares.reduce((s, x) => s + x, 0n));
  const order = exact
    .map((e, i) => ({ i, remainder: e % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (const { i } of order) {
    if (left === 0) break;
    shares[i]! += 1n;
    left--;
  }
  return shares.map(Number);
}

/**
 * The provider a job is charged at: the one it asked for; else the catalog provider whose price for
 * its GPU type equals the price stored on the job (the first in catalog order when several charge
 * the same); else today's cheapest; else "unknown".
 */
export function providerOf(catalog: Catalog, job: Pick<JobItem, "provider" | "gpuType" | "pricePerGpuHourMicros">): string {
  if (job.provider) return job.provider;
  const offers = catalog.entries.filter((e) => e.gpuType === job.gpuType);
  return (
    offers.find((e) => e.pricePerGpuHourMicros === job.pricePerGpuHourMicros)?.provider ??
    catalog.cheapest(job.gpuType)?.provider ??
    UNKNOWN_PROVIDER
  );
}

/** A finished run's usage per UTC day: usedMilli and actualCostMicros split by the run's time in each day. */
export function usageDays(
  core: Pick<Core, "catalog" | "config">,
  job: JobItem,
  run: { startedAt: string; finishedAt: string; usedMilli: MilliHours; actualCostMicros: Micros },
): UsageDayItem[] {
  const window = accrualWindow(
    Date.parse(run.startedAt),
    Date.parse(run.finishedAt),
    hoursToMilli(job.estimatedHours),
    core.config.simulation.secondsPerGpuHour,
  );
  const days = daysOfWindow(window);
  const weights = days.map((d) => d.ms);
  const milli = allocate(run.usedMilli, weights);
  const cost = allocate(run.actualCostMicros, weights);
  const provider = providerOf(core.catalog, job);
  return days.map(({ day }, i) => ({
    ...costKeys.usageDay(day, job.id),
    ...costKeys.usageByOwner(job.ownerId, day, job.id),
    ...(job.orgId ? costKeys.usageByOrg(job.orgId, day, job.id) : {}),
    type: "UsageDay",
    jobId: job.id,
    ownerId: job.ownerId,
    ...(job.orgId ? { orgId: job.orgId } : {}),
    provider,
    gpuType: job.gpuType,
    gpuCount: job.gpuCount,
    day,
    gpuMilli: milli[i]!,
    costMicros: cost[i]!,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  }));
}

/** Transaction item creating a usage day; a run ends once, so it must not exist yet. */
export const putUsageDayItem = (db: Db, item: UsageDayItem): TransactItem => ({
  Put: { TableName: db.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" },
});

/**
 * The terminal transition's usage items: one per UTC day the run touched, when the job had been
 * RUNNING (none otherwise). Written in the same transaction as the job, so they exist exactly when
 * the job's actual cost does.
 */
export function usageDayItems(core: Core, before: JobItem, changes: Partial<JobItem>, at: string): TransactItem[] {
  if (before.status !== "RUNNING" || !before.startedAt || changes.usedMilli === undefined) return [];
  const run = {
    startedAt: before.startedAt,
    finishedAt: changes.finishedAt ?? at,
    usedMilli: changes.usedMilli,
    actualCostMicros: changes.actualCostMicros ?? 0,
  };
  return usageDays(core, before, run).map((item) => putUsageDayItem(core.db, item));
}
