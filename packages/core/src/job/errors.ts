/** The job's own errors: a transition its current status does not allow, with that status typed. */
import { DomainError } from "../errors";
import type { JobStatus } from "./job";

/** A lifecycle transition that the job's current status does not allow. */
export class InvalidTransitionError extends DomainError {
  readonly code = "INVALID_TRANSITION";
  constructor(
    message: string,
    readonly currentStatus: JobStatus,
  ) {
    super(message);
  }
}
