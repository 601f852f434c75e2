/** Cluster access patterns: get, list by visibility or GPU type, create, resize/drain, and the
 * capacity take/release items admission puts in its transactions. */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { GPU_TYPES, type GpuType } from "../catalog/catalog";
import type { Db } from "../db/client";
import { queryAll } from "../db/read";
import { type TransactItem, transactWrite } from "../db/transact";
import { orgKeys } from "../org/keys";
import type { Capacity, ClusterItem } from "./cluster";
import { clusterKeys } from "./keys";

const NEW = "attribute_not_exists(pk)";

/** Get a cluster by id. */
export async function getClusterItem(db: Db, clusterId: string, consistent = false): Promise<ClusterItem | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: clusterKeys.cluster(clusterId), ConsistentRead: consistent }),
  );
  return Item as ClusterItem | undefined;
}

/** The shared pools, in id (creation) order (gsi1). */
export const listSharedClusterItems = (db: Db) => queryIndex(db, "gsi1", clusterKeys.sharedPartition().gsi1pk);

/** One org's private pools, in id (creation) order (gsi1). */
export const listOrgClusterItems = (db: Db, orgId: string) => queryIndex(db, "gsi1", clusterKeys.orgPartition(orgId).gsi1pk);

/** Every pool of one GPU type, shared and private, by provider then id (gsi3): the candidates for a job of that type. */
export const listPoolItems = (db: Db, gpuType: GpuType) => queryIndex(db, "gsi3", clusterKeys.poolPartition(gpuType).gsi3pk);

/** How old the pool list a submission is checked against may be (recentPoolItems), in milliseconds. */
export const POOL_LIST_MAX_AGE_MS = 1000;
const recentPools = new Map<string, { atMs: number; items: Promise<ClusterItem[]> }>();

/**
 * listPoolItems as this process read it at most POOL_LIST_MAX_AGE_MS ago (submission's NEVER_FITS
 * check and estimate price; an admission pass takes the pool ids from it, plus the pools its
 * trigger named, and then reads each pool consistently). A pool write in this process drops the
 * entry at once (forgetRecentPools); one made by another process (another Lambda instance) is seen
 * within POOL_LIST_MAX_AGE_MS plus the index's own lag (gsi3 is eventually consistent, so even a
 * fresh read may briefly miss a write).
 */
export function recentPoolItems(db: Db, gpuType: GpuType): Promise<ClusterItem[]> {
  const key = `${db.table}#${gpuType}`;
  const nowMs = performance.now(); // monotonic: a wall-clock step cannot keep an entry fresh
  const hit = recentPools.get(key);
  if (hit && nowMs - hit.atMs < POOL_LIST_MAX_AGE_MS) return hit.items;
  const entry = { atMs: nowMs, items: listPoolItems(db, gpuType) };
  recentPools.set(key, entry);
  entry.items.catch(() => recentPools.get(key) === entry && recentPools.delete(key));
  return entry.items;
}

/** Drops the remembered pool list of `gpuType` (called by every write of a pool's totals or flags). */
export const forgetRecentPools = (db: Db, gpuType: GpuType) => recentPools.delete(`${db.table}#${gpuType}`);

/** Every pool: one gsi3 Query per GPU type, in id (creation) order. */
export async function listAllClusterItems(db: Db): Promise<ClusterItem[]> {
  const perType = await Promise.all(GPU_TYPES.map((gpuType) => listPoolItems(db, gpuType)));
  return perType.flat().sort((a, b) => a.id.localeCompare(b.id));
}

const queryIndex = (db: Db, index: "gsi1" | "gsi3", pk: string) =>
  queryAll<ClusterItem>(db, {
    IndexName: index,
    KeyConditionExpression: "#pk = :pk",
    ExpressionAttributeNames: { "#pk": `${index}pk` },
    ExpressionAttributeValues: { ":pk": pk },
  });

/** The stored cluster item: keys, and available = total, allocated = 0. */
export function clusterItem(
  c: Omit<
    ClusterItem,
    "pk" | "sk" | "type" | "gsi1pk" | "gsi1sk" | "gsi3pk" | "gsi3sk" | `available${string}` | `allocated${string}` | "draining"
  >,
): ClusterItem {
  return {
    ...clusterKeys.cluster(c.id),
    type: "Cluster",
    ...clusterKeys.visibility(c.id, c.orgId),
    ...clusterKeys.pool(c.gpuType, c.provider, c.id),
    ...c,
    availableGpus: c.totalGpus,
    availableCpu: c.totalCpu,
    availableRamGb: c.totalRamGb,
    allocatedGpus: 0,
    allocatedCpu: 0,
    allocatedRamGb: 0,
    draining: false,
  };
}

/**
 * Transaction items creating `cluster`: for an org's pool, the org's pool count goes up by one,
 * conditional on the org existing and having fewer than `maxOrgPools` (on failure, the org as it
 * was: ALL_OLD). An org made before the count existed (no `poolCount`) gets its first count instead:
 * `counted`, the pools it had, plus this one, conditional on no count having been written meanwhile.
 */
export function createClusterItems(db: Db, cluster: ClusterItem, maxOrgPools: number, counted?: number): TransactItem[] {
  const count =
    counted === undefined
      ? {
          UpdateExpression: "ADD poolCount :one",
          ConditionExpression: "attribute_exists(pk) AND poolCount < :max",
          ExpressionAttributeValues: { ":one": 1, ":max": maxOrgPools },
        }
      : {
          UpdateExpression: "SET poolCount = :n",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(poolCount)",
          ExpressionAttributeValues: { ":n": counted + 1 },
        };
  return [
    ...(cluster.orgId === undefined
      ? []
      : [
          {
            Update: {
              TableName: db.table,
              Key: orgKeys.org(cluster.orgId),
              ...count,
              ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
            },
          },
        ]),
    { Put: { TableName: db.table, Item: cluster, ConditionExpression: NEW } },
  ];
}

const CAPACITY_NAMES = {
  "#availGpus": "availableGpus",
  "#availCpu": "availableCpu",
  "#availRam": "availableRamGb",
  "#allocGpus": "allocatedGpus",
  "#allocCpu": "allocatedCpu",
  "#allocRam": "allocatedRamGb",
};

/** Capacity changes follow commit order in time: each take and release records its time on the
 * pool and requires that no change with a later time committed before it, so a job's startedAt
 * never precedes the finishedAt of the job whose room it took (two writers' clocks and commit order
 * may otherwise disagree by the length of a transaction). A writer that loses this retries with a
 * fresh time. */
const IN_TIME_ORDER = "(attribute_not_exists(#changedAt) OR #changedAt <= :at)";

/**
 * Transaction item taking `want` from a pool at time `at`: available goes down and allocated up by
 * the same amounts. It fails its condition (item returned) when the pool is missing or draining,
 * when any resource has less available than wanted (so capacity never goes below zero however many
 * admissions run at once), or when a capacity change later than `at` has committed.
 */
export const takeCapacityItem = (db: Db, clusterId: string, want: Capacity, at: string): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: clusterKeys.cluster(clusterId),
    UpdateExpression:
      "SET #availGpus = #availGpus - :gpus, #availCpu = #availCpu - :cpu, #availRam = #availRam - :ram, " +
      "#allocGpus = #allocGpus + :gpus, #allocCpu = #allocCpu + :cpu, #allocRam = #allocRam + :ram, #changedAt = :at",
    ConditionExpression: `#availGpus >= :gpus AND #availCpu >= :cpu AND #availRam >= :ram AND #draining = :false AND ${IN_TIME_ORDER}`,
    ExpressionAttributeNames: { ...CAPACITY_NAMES, "#draining": "draining", "#changedAt": "capacityChangedAt" },
    ExpressionAttributeValues: { ":gpus": want.gpus, ":cpu": want.cpu, ":ram": want.ramGb, ":false": false, ":at": at },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  },
});

/**
 * Transaction item giving `give` back to a pool (draining or not) at time `at`: allocated goes down
 * and available up. It fails its condition when less is allocated than given back, so available
 * never exceeds total (available + allocated = total) and a release cannot be counted twice
 * against the pool's counters; and when a capacity change later than `at` has committed.
 */
export const releaseCapacityItem = (db: Db, clusterId: string, give: Capacity, at: string): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: clusterKeys.cluster(clusterId),
    UpdateExpression:
      "SET #availGpus = #availGpus + :gpus, #availCpu = #availCpu + :cpu, #availRam = #availRam + :ram, " +
      "#allocGpus = #allocGpus - :gpus, #allocCpu = #allocCpu - :cpu, #allocRam = #allocRam - :ram, #changedAt = :at",
    ConditionExpression: `#allocGpus >= :gpus AND #allocCpu >= :cpu AND #allocRam >= :ram AND ${IN_TIME_ORDER}`,
    ExpressionAttributeNames: { ...CAPACITY_NAMES, "#changedAt": "capacityChangedAt" },
    ExpressionAttributeValues: { ":gpus": give.gpus, ":cpu": give.cpu, ":ram": give.ramGb, ":at": at },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  },
});

const RESOURCES = [
  ["totalGpus", "availableGpus", "Gpus"],
  ["totalCpu", "availableCpu", "Cpu"],
  ["totalRamGb", "availableRamGb", "Ram"],
] as const;

/** What a resize or drain changes, against the totals it was computed from. */
export interface ClusterChange {
  /** The totals as read; the write is conditional on them still being so. */
  from: Pick<ClusterItem, "totalGpus" | "totalCpu" | "totalRamGb">;
  totals: Partial<Pick<ClusterItem, "totalGpus" | "totalCpu" | "totalRamGb">>;
  draining?: boolean;
  at: string;
}

/**
 * The UpdateItem input resizing and/or draining a pool in one conditional write: each changed
 * total moves to its new value and its available by the same delta, on condition that the total
 * is still what was read and that, when shrinking, at least the shrink is available (so the new
 * total never falls below what is allocated). Allocated counters are untouched.
 */
export function updateClusterInput(db: Db, clusterId: string, change: ClusterChange) {
  const sets = ["updatedAt = :at"];
  const conditions = ["attribute_exists(pk)"];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ":at": change.at };
  for (const [total, available, tag] of RESOURCES) {
    const next = change.totals[total];
    if (next === undefined || next === change.from[total]) continue;
    const delta = next - change.from[total];
    names[`#total${tag}`] = total;
    names[`#avail${tag}`] = available;
    values[`:old${tag}`] = change.from[total];
    values[`:new${tag}`] = next;
    values[`:delta${tag}`] = delta;
    sets.push(`#total${tag} = :new${tag}`, `#avail${tag} = #avail${tag} + :delta${tag}`);
    conditions.push(`#total${tag} = :old${tag}`);
    if (delta < 0) {
      values[`:shrink${tag}`] = -delta;
      conditions.push(`#avail${tag} >= :shrink${tag}`);
    }
  }
  if (change.draining !== undefined) {
    sets.push("#draining = :draining");
    names["#draining"] = "draining";
    values[":draining"] = change.draining;
  }
  return {
    TableName: db.table,
    Key: clusterKeys.cluster(clusterId),
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: conditions.join(" AND "),
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW" as const,
  };
}

/** Resizes and/or drains a pool (see updateClusterInput) in one transaction with `extra` (its audit
 * entry); TransactionCancelled, the pool's condition at index 0, when a condition failed. Returns the pool as written. */
export async function updateClusterItem(
  db: Db,
  clusterId: string,
  change: ClusterChange,
  extra: TransactItem[] = [],
): Promise<ClusterItem> {
  const { ReturnValues: _, ...update } = updateClusterInput(db, clusterId, change);
  await transactWrite(db, [{ Update: update }, ...extra]);
  const updated = (await getClusterItem(db, clusterId, true))!;
  forgetRecentPools(db, updated.gpuType);
  return updated;
}
