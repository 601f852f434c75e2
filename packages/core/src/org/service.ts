/** Organization use cases: create, join by invite code, rotate the code, list mine and members.
 * Who may do what: members read their org and its members; only its owner rotates the code, sets
 * the budget and reads alerts. Admins may read any org (members, alerts) but change none they do
 * not own. A non-member is told the org does not exist (404), like someone else's job. */

import { randomBytes } from "node:crypto";
import { auditEntry } from "../audit/audit";
import { auditEntryItem } from "../audit/store";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { Transaction, TransactionCancelled, transactWrite } from "../db/transact";
import { AlreadyExistsError, ContentionError, ForbiddenError, MembershipLimitError, NotFoundError } from "../errors";
import { periodOf } from "../quota/quota";
import { getUserItem, getUserItems, orgCountItem } from "../user/store";
import { parseInput } from "../util/fn";
import { isId, newId } from "../util/id";
import { orgAccess, ownedOrg } from "./access";
import { CreateOrgInput, INVITE_CODE, JoinOrgInput, toMember, toOrg, toSpend } from "./org";
import {
  addMemberItems,
  createOrgItems,
  getInviteOrgId,
  getMembershipItem,
  getOrgItem,
  getSpendItem,
  inviteOpensCheck,
  listMemberItems,
  listMembershipItems,
  orgItem,
  removeMemberItems,
  rotateInviteItems,
} from "./store";

const MAX_ATTEMPTS = 3;

const tooMany = (core: Core) =>
  new MembershipLimitError(`You belong to ${core.config.maxOrgsPerUser} orgs, the most allowed (MAX_ORGS_PER_USER); leave one first`);

/** A fresh invite code: 128 random bits as 22 base64url characters. */
export const newInviteCode = () => randomBytes(16).toString("base64url");

/** Creates an org owned by the caller. Its name must be free in any letter case (AlreadyExistsError). */
export async function createOrg(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(CreateOrgInput, body);
  const at = core.now().toISOString();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const counted = await uncountedOrgs(core, actor.userId);
    if (counted !== undefined && counted >= core.config.maxOrgsPerUser) throw tooMany(core);
    const org = orgItem({
      id: newId(),
      name: input.name,
      inviteCode: newInviteCode(),
      createdBy: actor.userId,
      createdAt: at,
      updatedAt: at,
      poolCount: 0,
    });
    const [nameClaim, inviteClaim, orgPut] = createOrgItems(core.db, org);
    const tx = new Transaction()
      .add("name", nameClaim)
      .add("invite", inviteClaim)
      .add("org", orgPut)
      .add("owner", ...addMemberItems(core.db, { orgId: org.id, userId: actor.userId, role: "owner", orgName: org.name, joinedAt: at }))
      .add("count", orgCountItem(core.db, actor.userId, 1, core.config.maxOrgsPerUser, counted));
    try {
      await transactWrite(core.db, tx);
      return toOrg(org, "owner");
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      if (error.failed("count") && counted !== undefined) continue; // a concurrent change counted first
      if (error.failed("count")) throw tooMany(core);
      if (error.failed("name")) throw new AlreadyExistsError(`An org named "${input.name}" already exists`);
      if (error.failed("invite")) continue; // 128 random bits collided: draw again
      throw error;
    }
  }
  throw new ContentionError("Could not create the org; please retry");
}

/** Joins the org an invite code opens, as a member. Joining again changes nothing; an unknown code is NotFoundError. */
export async function joinOrg(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(JoinOrgInput, body);
  const unknown = () => new NotFoundError("No org has this invite code");
  if (!INVITE_CODE.test(input.inviteCode)) throw unknown();
  const orgId = await getInviteOrgId(core.db, input.inviteCode);
  if (!orgId) throw unknown();
  const [org, existing] = await Promise.all([getOrgItem(core.db, orgId, true), getMembershipItem(core.db, actor.userId, orgId, true)]);
  if (!org) throw unknown();
  if (existing) return toOrg(org, existing.role);
  const counted = await uncountedOrgs(core, actor.userId);
  if (counted !== undefined && counted >= core.config.maxOrgsPerUser) throw tooMany(core);

  const at = core.now().toISOString();
  try {
    await transactWrite(
      core.db,
      new Transaction()
        // The code may have been rotated since it was read: then it no longer opens the org.
        .add("invite", inviteOpensCheck(core.db, input.inviteCode, orgId))
        .add("member", ...addMemberItems(core.db, { orgId, userId: actor.userId, role: "member", orgName: org.name, joinedAt: at }))
        .add("count", orgCountItem(core.db, actor.userId, 1, core.config.maxOrgsPerUser, counted)),
    );
    return toOrg(org, "member");
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    if (error.failed("invite")) throw unknown();
    // A concurrent join of the same user won: the membership exists, as the caller wanted.
    const now = error.failed("member") ? await getMembershipItem(core.db, actor.userId, orgId, true) : undefined;
    if (now) return toOrg(org, now.role);
    if (error.failed("count") && counted !== undefined) throw retryCounting();
    if (error.failed("count")) throw tooMany(core);
    throw error;
  }
}

/** Replaces the org's invite code (owner only); the old code stops opening the org at once. */
export async function rotateInviteCode(core: Core, actor: Actor, orgId: string) {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const org = await ownedOrg(core, actor, orgId, "rotate its invite code");
    const at = core.now().toISOString();
    const newCode = newInviteCode();
    try {
      await transactWrite(core.db, [
        ...rotateInviteItems(core.db, { orgId, oldCode: org.inviteCode, newCode, at }),
        // The codes themselves stay out of the trail: they are secrets.
        auditEntryItem(core.db, auditEntry(actor, { action: "org.inviteCode.rotate", target: { kind: "org", id: orgId } }, at)),
      ]);
      return toOrg({ ...org, inviteCode: newCode, updatedAt: at }, "owner");
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      // Rotated concurrently (or the new code collided): read the org again and retry.
    }
  }
  throw new ContentionError("The invite code kept changing; please retry");
}

/**
 * Removes member `userId` from the org (its owner only; the owner cannot be removed). From then on
 * they no longer read the org, its members or its private pools, and no longer submit jobs charged
 * to its budget (the submission's transaction checks the membership); their jobs already open stay
 * as they are and settle against the org's budget when they end (docs/security.md). The same
 * transaction rotates the invite code, so the code the removed member knew no longer lets them back
 * in (the owner shares the new one with whoever is still to join).
 */
export async function removeMember(core: Core, actor: Actor, orgId: string, userId: string) {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const org = await ownedOrg(core, actor, orgId, "remove members");
    const membership = isId(userId) ? await getMembershipItem(core.db, userId, orgId, true) : undefined;
    if (!membership && attempt > 1) return; // they left (or were removed) while this one retried: as asked
    if (!membership) throw new NotFoundError(`User ${userId} is not a member of org ${orgId}`);
    if (membership.role === "owner") throw new ForbiddenError("The org's owner cannot be removed");
    const at = core.now().toISOString();
    const counted = await uncountedOrgs(core, userId);
    const removal = new Transaction()
      .add("member", ...removeMemberItems(core.db, { orgId, userId }))
      .add("count", orgCountItem(core.db, userId, -1, core.config.maxOrgsPerUser, counted))
      .add("invite", ...rotateInviteItems(core.db, { orgId, oldCode: org.inviteCode, newCode: newInviteCode(), at }))
      .add(
        "audit",
        auditEntryItem(
          core.db,
          auditEntry(
            actor,
            { action: "org.member.remove", target: { kind: "org", id: orgId }, before: { userId, role: membership.role } },
            at,
          ),
        ),
      );
    try {
      await transactWrite(core.db, removal);
      return;
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      // The member left, or the code was rotated (or the new one collided), meanwhile: read again.
    }
  }
  throw new ContentionError("The org kept changing; please retry");
}

/** The caller leaves the org (a member; its owner cannot leave it). As removeMember for what follows,
 * but the invite code stays: whoever leaves of their own accord may come back with it. */
export async function leaveOrg(core: Core, actor: Actor, orgId: string) {
  const { role } = await orgAccess(core, actor, orgId);
  if (!role) throw new NotFoundError(`Org ${orgId} not found`);
  if (role === "owner") throw new ForbiddenError("The org's owner cannot leave it");
  const counted = await uncountedOrgs(core, actor.userId);
  try {
    await transactWrite(
      core.db,
      new Transaction()
        .add("member", ...removeMemberItems(core.db, { orgId, userId: actor.userId }))
        .add("count", orgCountItem(core.db, actor.userId, -1, core.config.maxOrgsPerUser, counted)),
    );
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    // The membership was removed (or left) concurrently, as asked.
    if (error.failed("member")) return;
    if (error.failed("count") && counted !== undefined) throw retryCounting();
    throw error;
  }
}

/**
 * How many orgs the user belongs to when their account keeps no count yet (made before
 * MAX_ORGS_PER_USER existed; undefined once it does): the first change to their memberships writes
 * the count from this, so it never starts from zero under memberships already there.
 */
async function uncountedOrgs(core: Core, userId: string): Promise<number | undefined> {
  const user = await getUserItem(core.db, userId, true);
  if (!user || user.orgCount !== undefined) return undefined;
  return (await listMembershipItems(core.db, userId)).length;
}

const retryCounting = () => new ContentionError("Your memberships changed meanwhile; please retry");

/** The caller's orgs with their role in each; owners also see the invite code and this month's spend. */
export async function listMyOrgs(core: Core, actor: Actor) {
  const period = periodOf(core.now());
  const memberships = await listMembershipItems(core.db, actor.userId);
  const orgs = await Promise.all(
    memberships.map(async (m) => {
      const org = await getOrgItem(core.db, m.orgId);
      if (!org || m.role !== "owner") return org && toOrg(org, m.role);
      const { orgId: _, ...monthToDate } = toSpend(org.id, period, await getSpendItem(core.db, org.id, period), org.monthlyBudgetMicros);
      return { ...toOrg(org, m.role), monthToDate };
    }),
  );
  return { items: orgs.filter((org) => org !== undefined) };
}

/** An org's members (members and admins only). */
export async function listOrgMembers(core: Core, actor: Actor, orgId: string) {
  await orgAccess(core, actor, orgId);
  const members = await listMemberItems(core.db, orgId);
  const users = await getUserItems(
    core.db,
    members.map((m) => m.userId),
  );
  return { items: members.map((m) => ({ ...toMember(m), email: users.get(m.userId)?.email, fullName: users.get(m.userId)?.fullName })) };
}
