/** The domain's error family. Names are a contract: HTTP maps them once at the edge and the
 * state machine's Retry/Catch clauses match them by `name`. No HTTP status lives here. */

export abstract class DomainError extends Error {
  /** Stable machine-readable code shown to API clients. */
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input failed validation; `issues` lists each problem with its path. */
export class ValidationError extends DomainError {
  readonly code = "VALIDATION_ERROR";
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** No credentials, or credentials that do not check out. */
export class UnauthorizedError extends DomainError {
  readonly code = "UNAUTHORIZED";
}

/** The user has MAX_OPEN_JOBS_PER_USER jobs open already: one must end before another is submitted. */
export class OpenJobsLimitError extends DomainError {
  readonly code = "OPEN_JOBS_LIMIT";
}

/** The user belongs to MAX_ORGS_PER_USER orgs already. */
export class MembershipLimitError extends DomainError {
  readonly code = "MEMBERSHIP_LIMIT";
}

/** The org has MAX_POOLS_PER_ORG private pools already. */
export class PoolLimitError extends DomainError {
  readonly code = "POOL_LIMIT";
}

/** The change would leave no active admin (demoting or disabling the last one). */
export class LastAdminError extends DomainError {
  readonly code = "LAST_ADMIN";
}

/** Too many attempts (failed logins for one email, submissions of one user): try again after
 * `retryAfterSeconds`. */
export class TooManyAttemptsError extends DomainError {
  readonly code = "TOO_MANY_ATTEMPTS";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Authenticated, but not allowed to do this. */
export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN";
}

/** The thing does not exist, or is not the caller's to see. */
export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
}

/** A uniqueness rule was broken (e.g. email already registered). */
export class AlreadyExistsError extends DomainError {
  readonly code = "ALREADY_EXISTS";
}

/** The same Idempotency-Key was reused with a different request body. */
export class IdempotencyKeyReusedError extends DomainError {
  readonly code = "IDEMPOTENCY_KEY_REUSED";
}

/** Not enough GPU-hours left in the caller's monthly quota. */
export class QuotaExceededError extends DomainError {
  readonly code = "QUOTA_EXCEEDED";
}

/** An org job's estimate does not fit in what is left of the org's monthly budget. */
export class BudgetExceededError extends DomainError {
  readonly code = "BUDGET_EXCEEDED";
}

/** A pool cannot shrink below what its running jobs hold. */
export class CapacityInUseError extends DomainError {
  readonly code = "CAPACITY_IN_USE";
}

/** A job named in `dependsOn` has already ended REJECTED, FAILED or CANCELLED: the new job could never start. */
export class DependencyFailedError extends DomainError {
  readonly code = "DEPENDENCY_FAILED";
  constructor(
    message: string,
    readonly dependencies: { id: string; status: string }[],
  ) {
    super(message);
  }
}

/** A job cannot start while any of its dependencies is not COMPLETED. */
export class DependenciesNotMetError extends DomainError {
  readonly code = "DEPENDENCIES_NOT_MET";
  constructor(
    message: string,
    readonly dependencies: { id: string; status: string }[],
  ) {
    super(message);
  }
}

/** The job asks for more than the largest pool that could run it has, even empty. */
export class NeverFitsError extends DomainError {
  readonly code = "NEVER_FITS";
}

/** No pool that could run the job has room for it now. */
export class NoCapacityError extends DomainError {
  readonly code = "NO_CAPACITY";
}

/** Concurrent writers kept colliding after every retry; safe for the client to retry. */
export class ContentionError extends DomainError {
  readonly code = "CONTENTION";
}

/**
 * A dependency (DynamoDB, Step Functions, EventBridge) did not answer within its timeouts and
 * retries, refused the connection, or is throttling/failing on its side. Nothing can be assumed
 * about a write that was in flight; the client may retry after `retryAfterSeconds`.
 */
export class DependencyUnavailableError extends DomainError {
  readonly code = "SERVICE_UNAVAILABLE";
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
    readonly retryAfterSeconds = 2,
  ) {
    super(`${dependency} is not answering right now; please retry shortly`, options);
  }
}
