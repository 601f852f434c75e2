/** The per-user submission rate limit as GCRA (the generic cell rate algorithm, a token bucket kept
 * as one time): a user may submit `burst` jobs at once and `ratePerSecond` after that. The stored
 * "theoretical arrival time" (TAT) is when the bucket would be full again; a submission at `now` is
 * allowed when max(TAT, now) − now ≤ (burst − 1) × interval, and moves TAT on by one interval.
 * DynamoDB cannot take a max() in an update, so a submission writes one of two forms, each with its
 * own condition: "idle" (TAT ≤ now: TAT = now + interval) or "busy" (now − slack < TAT ≤ now +
 * tolerance: TAT += interval). The two overlap by SLACK_MS, so a form chosen a moment ago is still
 * right when its write arrives and racing submissions settle in a try or two; the overlap lets a
 * user at most SLACK_MS of rate more than GCRA would. Pure: the item lives in quota/store.ts
 * (submissionLimitsItem). */

/** How far in the past a stored TAT may be for the "busy" form (its condition). */
export const SLACK_MS = 1000;

/** A stored TAT further ahead than any write could have put it (now + tolerance + one interval)
 * by more than this was written by a clock ahead of ours (or ours went back): it is reset, as idle. */
export const MAX_CLOCK_SKEW_MS = 60_000;

export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export type RateForm = { form: "idle" | "busy"; nowMs: number; intervalMs: number; toleranceMs: number; slackMs: number; skewMs: number };

/** The write of form `form` for a submission at `nowMs`. */
export function formAt(limit: RateLimit, nowMs: number, form: RateForm["form"]): RateForm {
  const intervalMs = 1000 / limit.ratePerSecond;
  return { form, nowMs, intervalMs, toleranceMs: (limit.burst - 1) * intervalMs, slackMs: SLACK_MS, skewMs: MAX_CLOCK_SKEW_MS };
}

/** The form a submission at `nowMs` writes given the stored TAT, or how long to wait when refused. */
export function rateForm(limit: RateLimit, tatMs: number | undefined, nowMs: number): RateForm | { retryAfterSeconds: number } {
  const { intervalMs, toleranceMs } = formAt(limit, nowMs, "idle");
  if (tatMs === undefined || tatMs <= nowMs || tatMs > nowMs + toleranceMs + intervalMs + MAX_CLOCK_SKEW_MS)
    return formAt(limit, nowMs, "idle");
  if (tatMs <= nowMs + toleranceMs) return formAt(limit, nowMs, "busy");
  return { retryAfterSeconds: Math.max(1, Math.ceil((tatMs - nowMs - toleranceMs) / 1000)) };
}
