/** Cluster (capacity pool) use cases: create shared or private pools, list and read the pools one
 * may see, resize and drain. Who may do what: admins create shared pools and pools for any org;
 * an org's owner creates its private pools. Everyone sees the shared pools; a private pool only its
 * org's members and admins (others are told it does not exist, 404). Admins, and the owner of a
 * private pool's org, resize or drain it. Admission (taking and releasing capacity) uses the
 * transaction items of ./store; what a new or grown pool means for waiting jobs is a reaction. */
import { auditEntry } from "../audit/audit";
import { auditEntryItem } from "../audit/store";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { TransactionCancelled, transactWrite } from "../db/transact";
import { CapacityInUseError, ContentionError, ForbiddenError, NotFoundError, PoolLimitError, ValidationError } from "../errors";
import { orgAccess } from "../org/access";
import { getOrgItem, listMembershipItems } from "../org/store";
import { parseInput } from "../util/fn";
import { newId } from "../util/id";
import { clusterAccess } from "./access";
import { type ClusterItem, CreateClusterInput, CreateOrgClusterInput, toCluster, UpdateClusterInput } from "./cluster";
import {
  clusterItem,
  createClusterItems,
  forgetRecentPools,
  getClusterItem,
  listAllClusterItems,
  listOrgClusterItems,
  listSharedClusterItems,
  updateClusterItem,
} from "./store";

const MAX_ATTEMPTS = 5;

type NewCluster = ReturnType<typeof CreateClusterInput.parse>;

async function create(core: Core, actor: Actor, input: NewCluster) {
  const at = core.now().toISOString();
  const cluster = clusterItem({ id: newId(), ...input, createdBy: actor.userId, createdAt: at, updatedAt: at });
  const max = core.config.maxPoolsPerOrg;
  const full = () => new PoolLimitError(`Org ${input.orgId} has ${max} pools, the most allowed (MAX_POOLS_PER_ORG)`);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // An org made before pools were counted has its pools counted once, by this creation.
    let counted: number | undefined;
    if (input.orgId !== undefined && attempt > 1) {
      const org = await getOrgItem(core.db, input.orgId, true);
      if (org && org.poolCount === undefined) counted = (await listOrgClusterItems(core.db, input.orgId)).length;
      if (counted !== undefined && counted >= max) throw full();
    }
    try {
      try {
        const audit = auditEntry(actor, { action: "cluster.create", target: { kind: "cluster", id: cluster.id }, after: { ...input } }, at);
        await transactWrite(core.db, [...createClusterItems(core.db, cluster, max, counted), auditEntryItem(core.db, audit)]);
      } finally {
        forgetRecentPools(core.db, cluster.gpuType);
      }
      // Jobs approved before the pool existed may start on it now: the reaction to the new pool admits them.
      return toCluster((await getClusterItem(core.db, cluster.id, true)) ?? cluster);
    } catch (error) {
      const org = error instanceof TransactionCancelled && input.orgId !== undefined ? error.failedAt(0) : undefined;
      if (!org) throw error;
      if (!org.item) throw new NotFoundError(`Org ${input.orgId} not found`);
      const poolCount = (org.item as { poolCount?: number }).poolCount;
      if (poolCount !== undefined && poolCount >= max) throw full();
      // Not counted yet (an org older than the count), or counted meanwhile: read the org and try again.
    }
  }
  throw new ContentionError(`Org ${input.orgId}'s pools kept changing; please retry`);
}

/** The catalog must offer the pool's GPU type at its provider (a ValidationError otherwise). */
function assertOffered(core: Core, input: Pick<NewCluster, "gpuType" | "provider">) {
  if (core.catalog.price(input.gpuType, input.provider) !== undefined) return;
  const message = `The catalog has no ${input.gpuType} at ${input.provider}`;
  throw new ValidationError(message, [{ path: "gpuType", message }]);
}

/** Creates a pool (admins): shared, or private to the existing org `orgId` (NotFoundError otherwise). */
export async function createCluster(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(CreateClusterInput, body);
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  assertOffered(core, input);
  if (input.orgId !== undefined && !(await getOrgItem(core.db, input.orgId, true))) throw new NotFoundError(`Org ${input.orgId} not found`);
  return create(core, actor, input);
}

/** Creates a private pool of org `orgId` (its owner, or an admin; other members ForbiddenError, non-members NotFoundError). */
export async function createOrgCluster(core: Core, actor: Actor, orgId: string, body: unknown) {
  const input = parseInput(CreateOrgClusterInput, body);
  const { role } = await orgAccess(core, actor, orgId);
  if (role !== "owner" && actor.role !== "admin") throw new ForbiddenError("Only the org's owner can create its pools");
  assertOffered(core, input);
  return create(core, actor, { ...input, orgId });
}

/** The pools the caller may see, in creation order: shared ones and their orgs' (admins: all). */
export async function listClusters(core: Core, actor: Actor) {
  let items: ClusterItem[];
  if (actor.role === "admin") {
    items = await listAllClusterItems(core.db);
  } else {
    const memberships = await listMembershipItems(core.db, actor.userId);
    const parts = await Promise.all([listSharedClusterItems(core.db), ...memberships.map((m) => listOrgClusterItems(core.db, m.orgId))]);
    items = parts.flat().sort((a, b) => a.id.localeCompare(b.id));
  }
  return { items: items.map(toCluster) };
}

/** One pool, if the caller may see it. */
export async function getCluster(core: Core, actor: Actor, clusterId: string) {
  return toCluster((await clusterAccess(core, actor, clusterId)).cluster);
}

const RESOURCES = [
  ["totalGpus", "availableGpus", "GPUs"],
  ["totalCpu", "availableCpu", "CPUs"],
  ["totalRamGb", "availableRamGb", "GB of RAM"],
] as const;

/**
 * Resizes and/or drains a pool (admins, or the owner of a private pool's org). A total never goes
 * below what is allocated (CapacityInUseError). The write is conditional on the totals read, so a
 * concurrent resize or admission makes it read again and retry.
 */
export async function updateCluster(core: Core, actor: Actor, clusterId: string, body: unknown) {
  const input = parseInput(UpdateClusterInput, body);
  const { draining, ...totals } = input;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { cluster, role } = await clusterAccess(core, actor, clusterId, true);
    if (actor.role !== "admin" && !(cluster.orgId !== undefined && role === "owner")) {
      throw new ForbiddenError("Only admins, or the owner of the pool's org, can change a pool");
    }
    for (const [total, available, what] of RESOURCES) {
      const next = totals[total];
      const allocated = cluster[total] - cluster[available];
      if (next !== undefined && next < allocated) {
        throw new CapacityInUseError(`Cannot shrink ${total} to ${next}: ${allocated} ${what} are allocated to running jobs`);
      }
    }
    const at = core.now().toISOString();
    const was = {
      totalGpus: cluster.totalGpus,
      totalCpu: cluster.totalCpu,
      totalRamGb: cluster.totalRamGb,
      draining: cluster.draining ?? false,
    };
    const audit = auditEntry(
      actor,
      { action: "cluster.update", target: { kind: "cluster", id: clusterId }, before: was, after: { ...was, ...input } },
      at,
    );
    try {
      const updated = await updateClusterItem(core.db, clusterId, { from: cluster, totals, draining, at }, [
        auditEntryItem(core.db, audit),
      ]);
      // More room, or admitting again: the reaction to the pool's change runs admission.
      return toCluster(updated);
    } catch (error) {
      if (!(error instanceof TransactionCancelled) || !error.failedAt(0)) throw error;
      // Resized or allocated concurrently since it was read: read it again and decide again.
    }
  }
  throw new ContentionError("The pool kept changing; please retry");
}
