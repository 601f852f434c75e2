/** Registration, login and "who am I": the account use cases. */
import * as z from "zod";
import type { Core } from "../core";
import { AlreadyExistsError, ForbiddenError, TooManyAttemptsError, UnauthorizedError } from "../errors";
import { currentQuota } from "../quota/service";
import { createUserItem, getUserItemByEmail } from "../user/store";
import { EmailSchema, FullNameSchema, PasswordSchema, type Role, toUser, type User, type UserItem } from "../user/user";
import { parseInput } from "../util/fn";
import { newId } from "../util/id";
import { activeUser } from "./access";
import { lockedForSeconds, MAX_FAILURES, WINDOW_MS } from "./lockout";
import { decoyHash, hashPassword, verifyPassword } from "./password";
import { clearLoginFailures, getLoginAttemptsItem, recordLoginFailure } from "./store";
import { type Actor, issueAccessToken } from "./token";

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
export async function register(core: Core, body: unknown): Promise<User> {
  return toUser(await createAccount(core, parseInput(RegisterInput, body), "user"));
}

export const LoginInput = z.strictObject({ email: EmailSchema, password: z.string().min(1).max(256) });

/**
 * Checks credentials and issues an access token. Unknown email and wrong password look the same,
 * and count the same towards the email's lockout (auth/lockout.ts): once locked, TooManyAttemptsError
 * before the password is looked at.
 */
export async function login(core: Core, body: unknown) {
  const input = parseInput(LoginInput, body);
  const [user, attempts] = await Promise.all([getUserItemByEmail(core.db, input.email), getLoginAttemptsItem(core.db, input.email)]);
  const now = core.now();
  const locked = lockedForSeconds(attempts, now);
  if (locked > 0) throw tooManyAttempts(locked);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !ok) {
    await recordLoginFailure(core.db, input.email, now, new Date(now.getTime() - WINDOW_MS), MAX_FAILURES);
    throw new UnauthorizedError("Invalid email or password");
  }
  if (!user.active) throw new ForbiddenError("This account is disabled");
  if (attempts) await clearLoginFailures(core.db, input.email);
  return issueAccessToken(core.config.jwt, { userId: user.id, role: user.role }, now);
}

const tooManyAttempts = (seconds: number) =>
  new TooManyAttemptsError(`Too many failed logins for this email; try again in ${seconds} s`, seconds);

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
