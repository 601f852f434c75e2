/** The port domain events leave through: EventBridge in AWS (eventbridge.ts), a webhook locally
 * (webhook.ts). Both publish one event at a time, so the caller keeps the stream's order. */
import type { DomainEvent } from "./event";

export interface EventPublisher {
  /** Resolves once the event is accepted; throws EventPublishError (or DependencyUnavailableError) if not. */
  publish(event: DomainEvent): Promise<void>;
}

/** The destination refused or never acknowledged an event; the record is to be retried or dropped. */
export class EventPublishError extends Error {
  override name = "EventPublishError";
}
