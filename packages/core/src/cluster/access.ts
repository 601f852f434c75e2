/** Who may see a pool: everyone a shared one; a private one its org's members and admins (others are told it does not exist). */
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { NotFoundError } from "../errors";
import type { OrgRole } from "../org/org";
import { getMembershipItem } from "../org/store";
import { isId } from "../util/id";
import type { ClusterItem } from "./cluster";
import { getClusterItem } from "./store";

/**
 * The pool and the caller's role in its org (private pools). Missing pools, malformed ids and
 * private pools of orgs the caller is not a member of (admins excepted) are NotFoundError.
 */
export async function clusterAccess(
  core: Core,
  actor: Actor,
  clusterId: string,
  consistent = false,
): Promise<{ cluster: ClusterItem; role?: OrgRole }> {
  const notFound = () => new NotFoundError(`Cluster ${clusterId} not found`);
  if (!isId(clusterId)) throw notFound();
  const cluster = await getClusterItem(core.db, clusterId, consistent);
  if (!cluster) throw notFound();
  if (cluster.orgId === undefined) return { cluster };
  const membership = await getMembershipItem(core.db, actor.userId, cluster.orgId, true);
  if (!membership && actor.role !== "admin") throw notFound();
  return { cluster, role: membership?.role };
}
