/** The login lockout (Cognito's behaviour, OWASP ASVS 2.2.1): after MAX_FAILURES failed logins for
 * one email within WINDOW_MS, every login for it answers 429 TOO_MANY_ATTEMPTS with Retry-After,
 * the right password included, and the password is not even checked (no scrypt work for a flood).
 * The lock lasts LOCK_BASE_MS after the last failure and doubles with each failure past the limit,
 * up to WINDOW_MS (a locked email keeps counting while it fails again within WINDOW_MS of its last
 * failure); a successful login clears the count.
 *
 * Every attempt is counted as a failure *before* its password is checked (auth/service.ts), with a
 * write conditional on the record it read: concurrent attempts take their turns, so no more than
 * MAX_FAILURES of them ever reach the password check — a parallel flood cannot get around the lock.
 * Pure: the record lives in auth/store.ts. */
import type { LoginAttempts, LoginAttemptsItem } from "./store";

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;
export const LOCK_BASE_MS = 60_000;

/** How long the lock of `item` lasts after its last failure (0: not locked). */
export function lockMs(failures: number): number {
  if (failures < MAX_FAILURES) return 0;
  return Math.min(WINDOW_MS, LOCK_BASE_MS * 2 ** (failures - MAX_FAILURES));
}

/** Whole seconds until `item`'s lock lifts at `now`; 0 when logins are allowed. */
export function lockedForSeconds(item: LoginAttemptsItem | undefined, now: Date): number {
  if (!item) return 0;
  const until = Date.parse(item.lastFailureAt) + lockMs(item.failures);
  return Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}

/** The record once one more attempt at `at` is counted: one more failure in the current window —
 * or, locked and failing again within WINDOW_MS of the last failure, one more that grows the lock —
 * otherwise the first failure of a new window. */
export function withAttempt(item: LoginAttemptsItem | undefined, at: Date): LoginAttempts {
  const floor = at.getTime() - WINDOW_MS;
  const now = at.toISOString();
  const continues =
    item && (Date.parse(item.windowStart) >= floor || (item.failures >= MAX_FAILURES && Date.parse(item.lastFailureAt) >= floor));
  return continues
    ? { failures: item.failures + 1, windowStart: item.windowStart, lastFailureAt: now }
    : { failures: 1, windowStart: now, lastFailureAt: now };
}
