/** Who is calling: the account behind a verified token, checked on every request that acts for it
 * (missing or disabled accounts are refused; the stored role counts, not the token's). */
import type { Core } from "../core";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { getUserItem } from "../user/store";
import type { UserItem } from "../user/user";
import { type Actor, verifyAccessToken } from "./token";

/** `user` as the account behind a verified token issued at `sessionVersion`: UnauthorizedError when
 * it no longer exists or its sessions were ended since (logout, a password change), ForbiddenError
 * when it was disabled. */
export function checkAccount(user: UserItem | undefined, sessionVersion = 0): UserItem {
  if (!user) throw new UnauthorizedError("Account no longer exists");
  // A disabled account hears so (its disabling also ended its sessions) rather than "sign in again".
  if (!user.active) throw new ForbiddenError("This account is disabled");
  if ((user.sessionVersion ?? 0) !== sessionVersion) throw new UnauthorizedError("This session has ended; please sign in again");
  return user;
}

/** The actor a verified token's account makes: refused when missing, disabled or signed out; the stored role. */
export function accountActor(user: UserItem | undefined, token: Actor): Actor {
  const account = checkAccount(user, token.sessionVersion);
  return { userId: account.id, role: account.role, sessionVersion: token.sessionVersion, account };
}

/** The caller's active account, or UnauthorizedError when it no longer exists or was disabled.
 * Reads it (consistently: a sign-out or a disabling counts from the next request, not a moment
 * later) unless `authenticate` already did for this request. */
export async function activeUser(core: Core, actor: Actor): Promise<UserItem> {
  if (actor.account?.id === actor.userId && actor.account.active) return actor.account;
  return checkAccount(await getUserItem(core.db, actor.userId, true), actor.sessionVersion);
}

/**
 * The actor behind a bearer token. The token must verify, and its account must still exist and be
 * active; the role is the stored one, so disabling or demoting an account takes effect at once
 * rather than when its tokens expire.
 */
export async function authenticate(core: Core, token: string): Promise<Actor> {
  const claims = await verifyAccessToken(core.config.jwt, token, core.now());
  return accountActor(await activeUser(core, claims), claims);
}

/**
 * The token's claims only, for use cases that read the account themselves, overlapped with their
 * own reads (getJob, getJobEvents, submitJob): the returned actor has no `account`, and those use
 * cases check the stored account (and take the stored role) before they act or answer anything.
 */
export const verifyToken = (core: Core, token: string): Promise<Actor> => verifyAccessToken(core.config.jwt, token, core.now());
