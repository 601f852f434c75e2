/** One admission pass for a GPU type (the scheduler's only writer of admissions, as Kueue's
 * scheduler loop): a snapshot of its pools, running set and queue head, planned (snapshot.ts), then each admission
 * as the same conditional start transition an admin's start is, with the pool fixed (dependencies
 * COMPLETED and the capacity take in the start transaction). Its cost is bounded by the window and
 * the running set, not by the number of waiting jobs. Finally it stores the plan (queue.ts PLAN),
 * which the "why is it waiting" views read. Passes run through loop.ts (one per GPU type at a time
 * in a process, triggers coalesced); passes in different processes stay correct because every
 * start is conditional: never a double start, never an over-allocated pool. */
import type { GpuType } from "../catalog/catalog";
import type { ClusterItem } from "../cluster/cluster";
import { takeCapacityItem } from "../cluster/store";
import type { Core } from "../core";
import { TransactionCancelled } from "../db/transact";
import { ContentionError, DependenciesNotMetError, NotFoundError } from "../errors";
import { dependenciesCompleted } from "../job/dependencies";
import { InvalidTransitionError } from "../job/errors";
import { getJobItems } from "../job/store";
import { SYSTEM_ACTOR, transitionJob, transitionJobsTogether } from "../job/transitions";
import { PoolTakenMeanwhile, startOnPlacement, withCapacityTake } from "./capacity";
import type { PoolPlan } from "./plan";
import { type PlanItem, putPlanItem, type WaitEntryItem } from "./queue";
import { type PassSnapshot, type PlannedPool, placesOf, planSnapshot, readPassSnapshot } from "./snapshot";

/** "skipped": the job moved on (another pass or an admin started or cancelled it); "raced": a
 * write contended or a dependency changed; "pool-full": the pool's room was taken meanwhile. */
type Outcome = "started" | "skipped" | "raced" | "pool-full";

const placedOn = (core: Core, pool: ClusterItem, price: number, entry: WaitEntryItem) =>
  startOnPlacement(
    core,
    { kind: "placed", pool, pricePerGpuHourMicros: price },
    { gpuCount: entry.gpus, cpu: entry.cpu, ramGb: entry.ramGb },
  );

const startRequest = (pool: ClusterItem, backfilled: boolean, details: ReturnType<typeof placedOn>["details"]) => ({
  action: "start",
  from: ["APPROVED"] as const,
  to: "RUNNING" as const,
  actor: SYSTEM_ACTOR,
  reason: `${backfilled ? "backfilled" : "admitted"} to pool ${pool.name} (${pool.id})`,
  details,
});

/** Starts the window entry's job on `pool`: the start transition with the pool fixed. */
async function admitOn(core: Core, entry: WaitEntryItem, pool: ClusterItem, price: number, backfilled: boolean): Promise<Outcome> {
  const placement = placedOn(core, pool, price, entry);
  try {
    await transitionJob(core, entry.jobId, {
      ...startRequest(pool, backfilled, placement.details),
      conditions: (read, at) => withCapacityTake(dependenciesCompleted(core)(read), placement.items(at)),
    });
    return "started";
  } catch (error) {
    if (error instanceof PoolTakenMeanwhile) return "pool-full";
    // Started, cancelled or gone meanwhile (another pass or an admin won).
    if (error instanceof InvalidTransitionError || error instanceof NotFoundError) return "skipped";
    if (error instanceof DependenciesNotMetError || error instanceof ContentionError) return "raced";
    throw error;
  }
}

/** Jobs started together in one transaction (4 items each: job, event, WAIT# out, RUN# in; plus one pool take). */
const BATCH = 20;

/**
 * Starts `entries` (jobs without dependencies) on `pool` in one transaction: one consistent read of
 * the jobs, their start transitions and one capacity take for all of them. When the transaction
 * fails (a job moved or its execution parked a token meanwhile, the pool changed), each goes alone
 * through admitOn, which re-reads and explains. Returns each entry's outcome, in order.
 */
async function admitTogether(
  core: Core,
  entries: WaitEntryItem[],
  pool: ClusterItem,
  price: number,
  backfilled: ReadonlySet<string>,
): Promise<Outcome[]> {
  const jobs = await getJobItems(
    core.db,
    entries.map((e) => e.jobId),
    true,
  );
  const movable = entries.filter((e) => jobs.get(e.jobId)?.status === "APPROVED");
  if (movable.length) {
    const moves = movable.map((e) => ({
      before: jobs.get(e.jobId)!,
      request: startRequest(pool, backfilled.has(e.jobId), placedOn(core, pool, price, e).details),
    }));
    const demand = movable.reduce((sum, e) => ({ gpus: sum.gpus + e.gpus, cpu: sum.cpu + e.cpu, ramGb: sum.ramGb + e.ramGb }), {
      gpus: 0,
      cpu: 0,
      ramGb: 0,
    });
    try {
      await transitionJobsTogether(core, moves, (at) => [takeCapacityItem(core.db, pool.id, demand, at)]);
      return entries.map((e) => (movable.includes(e) ? "started" : "skipped"));
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
    }
  }
  const outcomes: Outcome[] = [];
  for (const e of entries) {
    const outcome = movable.includes(e) ? await admitOn(core, e, pool, price, backfilled.has(e.jobId)) : "skipped";
    outcomes.push(outcome);
    if (outcome === "pool-full") break;
  }
  return outcomes;
}

/** Starts the plan's `admit` list on `pool`, in order: jobs without dependencies BATCH at a time, the
 * others alone (their start checks every dependency). Stops at a pool that filled meanwhile. */
async function admitList(core: Core, pool: ClusterItem, price: number, plan: PoolPlan, byId: ReadonlyMap<string, WaitEntryItem>) {
  const backfilled = new Set(plan.backfilled);
  const entries = plan.admit.map((id) => byId.get(id)!);
  const started: string[] = [];
  let raced = false;
  for (let i = 0; i < entries.length; ) {
    let group = [entries[i]!];
    if (!entries[i]!.dependsOn?.length) {
      let end = i;
      while (end < entries.length && end - i < BATCH && !entries[end]!.dependsOn?.length) end++;
      group = entries.slice(i, end);
    }
    i += group.length;
    const outcomes =
      group.length === 1
        ? [await admitOn(core, group[0]!, pool, price, backfilled.has(group[0]!.jobId))]
        : await admitTogether(core, group, pool, price, backfilled);
    outcomes.forEach((o, k) => {
      if (o === "started") started.push(group[k]!.jobId);
    });
    if (outcomes.some((o) => o === "raced" || o === "pool-full")) raced = true;
    if (outcomes.includes("pool-full")) break;
  }
  return { started, raced };
}

/** Rounds of one pass that lost a race and plan again from a fresh read, at most. */
const MAX_RACED_ROUNDS = 2;

/**
 * Admits what can start now on the pools of `gpuType`: for each pool, cheapest provider first, the
 * plan's `admit` list, each by a conditional start. A pool that filled meanwhile stops its list; a
 * round that lost a race reads and plans again (at most MAX_RACED_ROUNDS times); a round that
 * started jobs while more waited behind its window reads the next window (the starts moved it), so
 * a pool grown to fit a long queue fills in one pass. Stores the last round's plan of the jobs still
 * waiting. Returns the ids it started.
 */
export async function admissionPass(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<string[]> {
  const started: string[] = [];
  for (let races = 0; ; ) {
    const snap = await readPassSnapshot(core, gpuType, alsoPools);
    if (!snap) break;
    const planned = planSnapshot(core, snap);
    const byId = new Map(snap.waiting.map((e) => [e.jobId, e]));
    const startedNow = new Set<string>();
    let raced = false;
    for (const { pool, price, plan } of planned) {
      const outcome = await admitList(core, pool, price, plan, byId);
      for (const id of outcome.started) startedNow.add(id);
      raced ||= outcome.raced;
    }
    started.push(...startedNow);
    if (raced && races++ < MAX_RACED_ROUNDS) continue;
    if (startedNow.size && snap.windowEnd) continue;
    await storePlan(core, snap, planned, startedNow);
    break;
  }
  if (started.length) core.log.info("jobs admitted", { gpuType, started: started.length });
  return started;
}

async function storePlan(core: Core, snap: PassSnapshot, planned: PlannedPool[], started: ReadonlySet<string>) {
  const plan: Omit<PlanItem, "pk" | "sk" | "type"> = {
    gpuType: snap.gpuType,
    atMs: snap.nowMs,
    pools: planned.map(({ pool: { pk, sk, gsi1pk, gsi1sk, gsi3pk, gsi3sk, ...kept } }) => kept),
    places: placesOf(planned, started),
    ...(snap.windowEnd ? { windowEnd: snap.windowEnd } : {}),
  };
  try {
    await putPlanItem(core.db, plan);
  } catch (error) {
    // Only the views read it; the next pass writes it again.
    core.log.warn("admission plan not stored", { gpuType: snap.gpuType, error });
  }
}
