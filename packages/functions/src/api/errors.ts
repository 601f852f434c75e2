/** Maps domain errors to HTTP once: `{"error":{"code","message"}}` with the right status. */

import {
  AlreadyExistsError,
  BudgetExceededError,
  CapacityInUseError,
  ContentionError,
  DependenciesNotMetError,
  DependencyFailedError,
  DependencyUnavailableError,
  DomainError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  LastAdminError,
  MembershipLimitError,
  NeverFitsError,
  NoCapacityError,
  NotFoundError,
  OpenJobsLimitError,
  PoolLimitError,
  QuotaExceededError,
  TooManyAttemptsError,
  UnauthorizedError,
  ValidationError,
} from "@gpuaas/core";
import { InvalidTransitionError } from "@gpuaas/core/api";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const STATUS: [new (...args: never[]) => DomainError, ContentfulStatusCode][] = [
  [ValidationError, 400],
  [QuotaExceededError, 400],
  [OpenJobsLimitError, 400],
  [BudgetExceededError, 400],
  [DependencyFailedError, 400],
  [DependenciesNotMetError, 409],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [AlreadyExistsError, 409],
  [IdempotencyKeyReusedError, 409],
  [InvalidTransitionError, 409],
  [CapacityInUseError, 409],
  [NeverFitsError, 400],
  [NoCapacityError, 409],
  [LastAdminError, 409],
  [PoolLimitError, 409],
  [MembershipLimitError, 409],
  [ContentionError, 503],
  [TooManyAttemptsError, 429],
];

export const errorBody = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message, ...extra },
});

/** 503 SERVICE_UNAVAILABLE with Retry-After: storage or the workflow service did not answer in time. */
export function unavailable(c: Context, extra: Record<string, unknown> = {}, error = new DependencyUnavailableError("Storage")) {
  c.header("Retry-After", String(error.retryAfterSeconds));
  return c.json({ ...extra, ...errorBody(error.code, error.message) }, 503);
}

export function handleError(error: Error, c: Context) {
  if (error instanceof DependencyUnavailableError) {
    c.get("core")?.log.warn("dependency unavailable", { dependency: error.dependency, path: c.req.path, error: error.cause as Error });
    return unavailable(c, {}, error);
  }
  if (error instanceof DomainError) {
    const status = STATUS.find(([type]) => error instanceof type)?.[1] ?? 400;
    const extra =
      error instanceof ValidationError && error.issues.length
        ? { issues: error.issues }
        : error instanceof InvalidTransitionError
          ? { currentStatus: error.currentStatus }
          : error instanceof DependencyFailedError || error instanceof DependenciesNotMetError
            ? { dependencies: error.dependencies }
            : error instanceof TooManyAttemptsError
              ? { retryAfterSeconds: error.retryAfterSeconds }
              : {};
    if (error instanceof ContentionError) c.header("Retry-After", "1");
    if (error instanceof TooManyAttemptsError) c.header("Retry-After", String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message, extra), status);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 401 ? "UNAUTHORIZED" : "BAD_REQUEST";
    return c.json(errorBody(code, error.message || "Bad request"), status);
  }
  c.get("core")?.log.error("unhandled error", { method: c.req.method, path: c.req.path, error });
  return c.json(errorBody("INTERNAL", `Internal error (request ${c.get("requestId")})`), 500);
}
