/** Who may see and run an org: its members see it (others are told it does not exist), its owner runs it. */
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { ForbiddenError, NotFoundError } from "../errors";
import { isId } from "../util/id";
import type { OrgItem, OrgRole } from "./org";
import { getMembershipItem, getOrgItem } from "./store";

/**
 * The org and the caller's role in it. Non-members (and malformed ids) get NotFoundError;
 * admins get the org with their role if they have one.
 */
export async function orgAccess(core: Core, actor: Actor, orgId: string): Promise<{ org: OrgItem; role?: OrgRole }> {
  const notFound = () => new NotFoundError(`Org ${orgId} not found`);
  if (!isId(orgId)) throw notFound();
  // Consistent: a member removed a moment ago no longer sees the org.
  const [membership, org] = await Promise.all([getMembershipItem(core.db, actor.userId, orgId, true), getOrgItem(core.db, orgId, true)]);
  if (!org || (!membership && actor.role !== "admin")) throw notFound();
  return { org, role: membership?.role };
}

/** The org, when the caller owns it: ForbiddenError for its other members (and admins), NotFoundError for non-members. */
export async function ownedOrg(core: Core, actor: Actor, orgId: string, action: string): Promise<OrgItem> {
  const { org, role } = await orgAccess(core, actor, orgId);
  if (role !== "owner") throw new ForbiddenError(`Only the org's owner can ${action}`);
  return org;
}
