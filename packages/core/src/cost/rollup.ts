/** The daily rollup: a day's cost and usage snapshots from the jobs that ran that day, read through
 * the usage-day partition and the RUNNING status index only, never the whole table. */
import * as z from "zod";
import { recordRun } from "../audit/service";
import type { Actor } from "../auth/token";
import type { Provider } from "../catalog/catalog";
import type { Core } from "../core";
import { TransactionCancelled } from "../db/transact";
import { ContentionError, ForbiddenError, ValidationError } from "../errors";
import type { JobItem } from "../job/job";
import { parseInput } from "../util/fn";
import { hoursToMilli, type MilliHours } from "../util/hours";
import { newId } from "../util/id";
import { costMicros, type Micros } from "../util/money";
import { costKeys } from "./keys";
import {
  type CostDayItem,
  type CostRollupItem,
  type CostSnapshotItem,
  DaySchema,
  type OrgCostSnapshotItem,
  toCostSnapshot,
} from "./snapshot";
import { listCostDayItems, listRunningJobItems, listUsageDayItems, replaceCostDay } from "./store";
import { accrualWindow, dayOf, overlapWithDay, previousDay, providerOf, type UsageDayItem } from "./usage";

const MAX_ATTEMPTS = 5;

/** One job's part of a day. */
interface DayUsage {
  jobId: string;
  provider: string;
  gpuType: string;
  orgId?: string;
  gpuMilli: MilliHours;
  costMicros: Micros;
}

export interface RollupResult {
  day: string;
  /** When this rollup ran (GET /admin/costs/snapshots shows the same field). */
  rolledUpAt: string;
  /** Items read: usageItemsRead + runningJobsRead. */
  jobsRead: number;
  usageItemsRead: number;
  runningJobsRead: number;
  snapshots: ReturnType<typeof toCostSnapshot>[];
}

/**
 * GPU milli-hours (per GPU) a still-RUNNING job ran within `day` up to `nowMs`: its accrual window
 * (until now, capped at its estimate) intersected with the day, scaled by SIMULATION_SECONDS_PER_HOUR
 * as transitions.runMilliHours does. Undefined when the job did not run that day at all.
 */
export function runningMilliOnDay(core: Pick<Core, "config">, job: JobItem, day: string, nowMs: number): MilliHours | undefined {
  if (!job.startedAt) return undefined;
  const startMs = Date.parse(job.startedAt);
  const secondsPerHour = core.config.simulation.secondsPerGpuHour;
  const estimate = hoursToMilli(job.estimatedHours);
  if (secondsPerHour === 0) return dayOf(startMs) === day && startMs <= nowMs ? estimate : undefined;
  const overlap = overlapWithDay(accrualWindow(startMs, nowMs, estimate, secondsPerHour), day);
  return overlap > 0 ? Math.floor(overlap / secondsPerHour) : undefined;
}

/** What each job used on `day`: finished runs from their usage items, running jobs up to now. */
function dayUsage(core: Core, day: string, usage: UsageDayItem[], running: JobItem[], nowMs: number): DayUsage[] {
  const parts: DayUsage[] = usage.map((u) => ({
    jobId: u.jobId,
    provider: u.provider,
    gpuType: u.gpuType,
    orgId: u.orgId,
    gpuMilli: u.gpuMilli,
    costMicros: u.costMicros,
  }));
  // A job that finished between the two reads is in both: its usage item is the truth.
  const finished = new Set(parts.map((p) => p.jobId));
  for (const job of running) {
    if (finished.has(job.id)) continue;
    const milli = runningMilliOnDay(core, job, day, nowMs);
    if (milli === undefined) continue;
    const provider = providerOf(core.catalog, job);
    const price = job.pricePerGpuHourMicros ?? core.catalog.price(job.gpuType, provider as Provider) ?? 0;
    parts.push({
      jobId: job.id,
      provider,
      gpuType: job.gpuType,
      orgId: job.orgId,
      gpuMilli: job.gpuCount * milli,
      costMicros: costMicros(price, job.gpuCount, milli),
    });
  }
  return parts;
}

/** Sums parts into snapshots per provider × GPU type and per org (sorted by key, so reruns write the same items). */
function snapshotsOf(day: string, parts: DayUsage[]): (CostSnapshotItem | OrgCostSnapshotItem)[] {
  const groups = new Map<string, CostSnapshotItem | OrgCostSnapshotItem>();
  const jobs = new Map<string, Set<string>>();
  const add = (item: CostSnapshotItem | OrgCostSnapshotItem, part: DayUsage) => {
    const current = groups.get(item.sk) ?? item;
    current.costMicros += part.costMicros;
    current.gpuMilli += part.gpuMilli;
    const ids = jobs.get(item.sk) ?? new Set<string>();
    ids.add(part.jobId);
    current.jobCount = ids.size;
    groups.set(item.sk, current);
    jobs.set(item.sk, ids);
  };
  for (const part of parts) {
    const zero = { costMicros: 0, gpuMilli: 0, jobCount: 0, day };
    add(
      {
        ...costKeys.costSnapshot(day, part.provider, part.gpuType),
        type: "CostSnapshot",
        provider: part.provider,
        gpuType: part.gpuType,
        ...zero,
      },
      part,
    );
    if (part.orgId) add({ ...costKeys.orgCostSnapshot(day, part.orgId), type: "OrgCostSnapshot", orgId: part.orgId, ...zero }, part);
  }
  return [...groups.values()].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
}

/**
 * Rolls up UTC day `day` ("YYYY-MM-DD"): reads the day's usage items (one per job whose finished run
 * touched the day) and the RUNNING jobs (16 status-index shards), and replaces the day's snapshots
 * with what they add up to. Re-running a day gives the same snapshots (no double counting); a
 * snapshot no longer produced is deleted.
 */
export async function rollupDay(core: Core, day: string): Promise<RollupResult> {
  parseInput(DaySchema, day);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = core.now();
    const [usage, running, existing] = await Promise.all([
      listUsageDayItems(core.db, day),
      listRunningJobItems(core.db),
      listCostDayItems(core.db, day),
    ]);
    const snapshots = snapshotsOf(day, dayUsage(core, day, usage, running, now.getTime()));
    const previous = existing.find((i): i is CostRollupItem => i.type === "CostRollup");
    const summary: CostRollupItem = {
      ...costKeys.rollupSummary(day),
      type: "CostRollup",
      day,
      runId: newId(),
      jobsRead: usage.length + running.length,
      usageItemsRead: usage.length,
      runningJobsRead: running.length,
      at: now.toISOString(),
    };
    const produced = new Set<string>([summary.sk, ...snapshots.map((s) => s.sk)]);
    const stale = existing.filter((i) => !produced.has(i.sk)).map(({ pk, sk }) => ({ pk, sk }));
    try {
      await replaceCostDay(core.db, day, [...snapshots, summary] as CostDayItem[], stale, previous?.runId);
    } catch (error) {
      // Another rollup of this day wrote meanwhile: read and compute again, after a jittered pause.
      if (error instanceof TransactionCancelled) {
        await new Promise((r) => setTimeout(r, Math.random() * 50 * attempt));
        continue;
      }
      throw error;
    }
    return {
      day,
      rolledUpAt: summary.at,
      jobsRead: summary.jobsRead,
      usageItemsRead: summary.usageItemsRead,
      runningJobsRead: summary.runningJobsRead,
      snapshots: snapshots.map(toCostSnapshot),
    };
  }
  throw new ContentionError(`Day ${day} kept being rolled up concurrently; please retry`);
}

/** Rolls up the UTC day before core.now() (what the schedule runs shortly after midnight). */
export const rollupPreviousDay = (core: Core) => rollupDay(core, previousDay(dayOf(core.now().getTime())));

/** The earliest day a rollup may be asked for. */
export const EARLIEST_DAY = "2000-01-01";

/** `POST /admin/costs/rollup?date=`: `date` absent means yesterday. */
export const RollupInput = z.strictObject({ date: DaySchema.optional() });

/** Rolls up a day on demand (admins). */
export async function runRollup(core: Core, actor: Actor, input: unknown): Promise<RollupResult> {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  const { date } = parseInput(RollupInput, input);
  // Today can be rolled up (so far); a day that has not begun has nothing to roll up.
  if (date && (date > dayOf(core.now().getTime()) || date < EARLIEST_DAY)) {
    throw new ValidationError(`date: must be a day from ${EARLIEST_DAY} to today (UTC)`, [{ path: "date", message: "out of range" }]);
  }
  await recordRun(core, actor, { action: "cost.rollup.run", target: { kind: "costRollup", id: date ?? "previous-day" } });
  return date ? rollupDay(core, date) : rollupPreviousDay(core);
}

/** `GET /admin/costs/snapshots?date=`. */
export const SnapshotsInput = z.strictObject({ date: DaySchema });

/** A day's stored snapshots, as the last rollup left them (admins). */
export async function getCostSnapshots(core: Core, actor: Actor, input: unknown) {
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  const { date } = parseInput(SnapshotsInput, input);
  const items = await listCostDayItems(core.db, date);
  const summary = items.find((i): i is CostRollupItem => i.type === "CostRollup");
  return {
    day: date,
    rolledUpAt: summary?.at ?? null,
    snapshots: items.filter((i): i is CostSnapshotItem | OrgCostSnapshotItem => i.type !== "CostRollup").map(toCostSnapshot),
  };
}
