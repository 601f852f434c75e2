/** Registration, login and "who am I": the account use cases. */
import * as z from "zod";
import type { Core } from "../core";
import { AlreadyExistsError, ContentionError, ForbiddenError, TooManyAttemptsError, UnauthorizedError, ValidationError } from "../errors";
import { currentQuota } from "../quota/service";
import { bumpSessionVersion, createUserItem, getUserItemByEmail, indexActiveAdmin, replacePasswordHash } from "../user/store";
import { EmailSchema, FullNameSchema, PasswordSchema, type Role, toUser, type User, type UserItem } from "../user/user";
import { parseInput } from "../util/fn";
import { newId } from "../util/id";
import { activeUser } from "./access";
import { lockedForSeconds, withAttempt } from "./lockout";
import { decoyHash, hashPassword, needsRehash, verifyPassword } from "./password";
import { clearLoginFailures, getLoginAttemptsItem, replaceLoginAttempts } from "./store";
import { type Actor, issueAccessToken } from "./token";

export const RegisterInput = z.strictObject({
  email: EmailSchema,
  password: PasswordSchema,
  fullName: FullNameSchema,
});

async function createAccount(core: Core, input: z.output<typeof RegisterInput>, role: Role, active = true): Promise<UserItem> {
  const at = core.now().toISOString();
  return createUserItem(core.db, {
    id: newId(),
    email: input.email,
    fullName: input.fullName,
    role,
    active,
    passwordHash: await hashPassword(input.password, core.config.passwordHashCost),
    orgCount: 0,
    createdAt: at,
    updatedAt: at,
  });
}

/**
 * Registers a new `user` account. A taken email (any letter case) gets the same answer as a free
 * one and writes nothing (OWASP: no account enumeration); its owner can only sign in with their own
 * password. REGISTRATION_MODE
 * decides whether anyone may (open), whether the account waits for an admin to activate it
 * (approval: created inactive, `PATCH /admin/users/{id}` `{active: true}`), or nobody (closed:
 * ForbiddenError); ALLOWED_EMAIL_DOMAINS, when set, limits the emails.
 */
export async function register(core: Core, body: unknown): Promise<User> {
  const { mode, allowedEmailDomains } = core.config.registration;
  if (mode === "closed") throw new ForbiddenError("Registration is closed; ask an admin for an account");
  const input = parseInput(RegisterInput, body);
  const domain = input.email.slice(input.email.lastIndexOf("@") + 1).toLowerCase();
  if (allowedEmailDomains.length && !allowedEmailDomains.includes(domain)) {
    const message = `must be an address at ${allowedEmailDomains.join(", ")}`;
    throw new ValidationError(`email: ${message}`, [{ path: "email", message }]);
  }
  const at = core.now().toISOString();
  const active = mode === "open";
  try {
    return toUser(await createAccount(core, input, "user", active));
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    // The same answer as for a new account (the password was hashed all the same, so the same time
    // too): registration does not tell who has an account. Nothing is written; the owner is untouched.
    return { id: newId(), email: input.email, fullName: input.fullName, role: "user", active, createdAt: at };
  }
}

export const LoginInput = z.strictObject({ email: EmailSchema, password: z.string().min(1).max(256) });

/**
 * Checks credentials and issues an access token. Unknown email and wrong password look the same,
 * and count the same towards the email's lockout (auth/lockout.ts): the attempt is counted before
 * the password is looked at (TooManyAttemptsError once locked), and a right password clears it.
 */
export async function login(core: Core, body: unknown) {
  const input = parseInput(LoginInput, body);
  const now = core.now();
  const [user] = await Promise.all([getUserItemByEmail(core.db, input.email), countAttempt(core, input.email, now)]);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash(core.config.passwordHashCost)));
  // A hash at older, cheaper parameters checks faster than the decoy: a wrong password for it also
  // pays the decoy's check, so the answer's time does not tell such an account from no account.
  if (user && !ok && needsRehash(user.passwordHash, core.config.passwordHashCost)) {
    await verifyPassword(input.password, await decoyHash(core.config.passwordHashCost));
  }
  if (!user || !ok) throw new UnauthorizedError("Invalid email or password");
  await clearLoginFailures(core.db, input.email);
  if (!user.active) throw new ForbiddenError("This account is disabled (or not yet activated by an admin)");
  // A hash made at older (weaker) parameters is replaced now that the password is known.
  if (needsRehash(user.passwordHash, core.config.passwordHashCost)) {
    await replacePasswordHash(core.db, user.id, user.passwordHash, await hashPassword(input.password, core.config.passwordHashCost));
  }
  return issueAccessToken(core.config.jwt, { userId: user.id, role: user.role, sessionVersion: user.sessionVersion ?? 0 }, now);
}

/** Signs the caller out everywhere (Cognito's global sign-out): every token of the account, this
 * one included, stops working at once (the session version they carry is no longer the account's). */
export async function logout(core: Core, actor: Actor): Promise<void> {
  await activeUser(core, actor);
  if (!(await bumpSessionVersion(core.db, actor.userId, core.now().toISOString()))) throw new UnauthorizedError("Account no longer exists");
}

export const ChangePasswordInput = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: PasswordSchema });

/**
 * Changes the caller's password: the current one must be right (a wrong one counts towards the
 * email's login lockout, as a failed login does), and every older token stops working; answers a new
 * token, so the caller stays signed in.
 */
export async function changePassword(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(ChangePasswordInput, body);
  const user = await activeUser(core, actor);
  const now = core.now();
  await countAttempt(core, user.email, now);
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    throw new ValidationError("currentPassword: is not the account's password", [{ path: "currentPassword", message: "is wrong" }]);
  }
  await clearLoginFailures(core.db, user.email);
  const newHash = await hashPassword(input.newPassword, core.config.passwordHashCost);
  const updated = await bumpSessionVersion(core.db, user.id, now.toISOString(), { oldHash: user.passwordHash, newHash });
  if (!updated) throw new ContentionError("The password changed meanwhile; sign in again");
  return issueAccessToken(core.config.jwt, { userId: updated.id, role: updated.role, sessionVersion: updated.sessionVersion ?? 0 }, now);
}

/** Turns for one email's concurrent attempts before the rest are told to come back. */
const ATTEMPT_TURNS = 8;

/**
 * Counts an attempt at a password as a failure before the password is checked (auth/lockout.ts):
 * TooManyAttemptsError while the email is locked, and when its concurrent attempts kept taking the
 * turn from this one (a flood); a right password clears the count afterwards.
 */
async function countAttempt(core: Core, email: string, now: Date): Promise<void> {
  for (let turn = 0; turn < ATTEMPT_TURNS; turn++) {
    const attempts = await getLoginAttemptsItem(core.db, email);
    const seconds = lockedForSeconds(attempts, now);
    if (seconds > 0) throw new TooManyAttemptsError(`Too many failed logins for this email; try again in ${seconds} s`, seconds);
    if (await replaceLoginAttempts(core.db, email, attempts, withAttempt(attempts, now))) return;
  }
  throw new TooManyAttemptsError("Too many logins at once for this email; try again in 1 s", 1);
}

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
    // An admin made before the active-admin index existed joins it (the last-admin rule reads it).
    if (existing) await indexActiveAdmin(core.db, existing.id);
    return { created: false, user: existing ? toUser(existing) : undefined };
  }
}
