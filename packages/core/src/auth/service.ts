/** Registration, login and "who am I": the account use cases. */
import * as z from "zod";
import type { Core } from "../core";
import { AlreadyExistsError, ForbiddenError, UnauthorizedError } from "../errors";
import { currentQuota } from "../quota/service";
import { createUserItem, getUserItem, getUserItemByEmail } from "../user/store";
import { EmailSchema, FullNameSchema, PasswordSchema, toUser, type Role, type User, type UserItem } from "../user/user";
import { fn } from "../util/fn";
import { newId } from "../util/id";
import { decoyHash, hashPassword, verifyPassword } from "./password";
import { issueAccessToken, verifyAccessToken, type Actor } from "./token";

export const RegisterInput = z.strictObject({
  email: EmailSchema,
  password: PasswordSchema,
  fullName: FullNameSchema,
});

async function createAccount(core: Core, input: z.output<typeof RegisterInput>, role: Role): Promise<UserItem> {
  const at = core.now().toISOString();
  return createUserItem(core.db, {
    id: newId(),
    email: input.email,
    fullName: input.fullName,
    role,
    active: true,
    passwordHash: await hashPassword(input.password),
    createdAt: at,
    updatedAt: at,
  });
}

/** Registers a new `user` account; the email must not be taken (any letter case). */
export const register = fn(RegisterInput, async (input, core: Core): Promise<User> =>
  toUser(await createAccount(core, input, "user")),
);

export const LoginInput = z.strictObject({ email: EmailSchema, password: z.string().min(1).max(256) });

/** Checks credentials and issues an access token. Unknown email and wrong password look the same. */
export const login = fn(LoginInput, async (input, core: Core) => {
  const user = await getUserItemByEmail(core.db, input.email);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !ok) throw new UnauthorizedError("Invalid email or password");
  if (!user.active) throw new ForbiddenError("This account is disabled");
  return issueAccessToken(core.config.jwt, { userId: user.id, role: user.role }, core.now());
});

/** `user` as the account behind a verified token: UnauthorizedError when it no longer exists,
 * ForbiddenError when it was disabled. */
export function checkAccount(user: UserItem | undefined): UserItem {
  if (!user) throw new UnauthorizedError("Account no longer exists");
  if (!user.active) throw new ForbiddenError("This account is disabled");
  return user;
}

/** The actor a verified token's account makes: refused when missing or disabled; the stored role. */
export function accountActor(user: UserItem | undefined): Actor {
  const account = checkAccount(user);
  return { userId: account.id, role: account.role, account };
}

/** The caller's active account, or UnauthorizedError when it no longer exists or was disabled.
 * Reads it unless `authenticate` already did for this request. */
export async function activeUser(core: Core, actor: Actor): Promise<UserItem> {
  if (actor.account?.id === actor.userId && actor.account.active) return actor.account;
  return checkAccount(await getUserItem(core.db, actor.userId));
}

/**
 * The actor behind a bearer token. The token must verify, and its account must still exist and be
 * active; the role is the stored one, so disabling or demoting an account takes effect at once
 * rather than when its tokens expire.
 */
export async function authenticate(core: Core, token: string): Promise<Actor> {
  const claims = await verifyAccessToken(core.config.jwt, token, core.now());
  return accountActor(await activeUser(core, claims));
}

/**
 * The token's claims only, for use cases that read the account themselves, overlapped with their
 * own reads (getJob, getJobEvents, submitJob): the returned actor has no `account`, and those use
 * cases check the stored account (and take the stored role) before they act or answer anything.
 */
export const verifyToken = (core: Core, token: string): Promise<Actor> => verifyAccessToken(core.config.jwt, token, core.now());

/** The caller's profile with this month's quota. */
export async function me(core: Core, actor: Actor) {
  const user = await activeUser(core, actor);
  return { ...toUser(user), quota: await currentQuota(core, user) };
}

/** Creates the bootstrap admin unless that email already has an account. */
export async function ensureAdmin(core: Core, credentials: { email: string; password: string; fullName?: string }) {
  const input = RegisterInput.parse({ fullName: "Administrator", ...credentials });
  try {
    return { created: true, user: toUser(await createAccount(core, input, "admin")) };
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const existing = await getUserItemByEmail(core.db, input.email);
    return { created: false, user: existing ? toUser(existing) : undefined };
  }
}
