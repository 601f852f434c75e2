/** EventBridge adapter of the publisher port: PutEvents to the app's bus, with the bounded timeouts
 * and attempts of every outbound AWS client. */
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mapUnavailableErrors, type OutboundSettings, outboundClientConfig } from "../aws/outbound";
import type { DomainEvent } from "./event";
import { EventPublishError, type EventPublisher } from "./publisher";

export interface EventBridgeOptions {
  busName: string;
  region: string;
  outbound: OutboundSettings;
}

export function createEventBridgeClient({ region, outbound }: Omit<EventBridgeOptions, "busName">): EventBridgeClient {
  return mapUnavailableErrors(new EventBridgeClient({ region, ...outboundClientConfig(outbound) }), "EventBridge");
}

/** The PutEvents entry of an event (exported for tests that assert the exact call). */
export const putEventsEntry = (busName: string, event: DomainEvent) => ({
  EventBusName: busName,
  Source: event.source,
  DetailType: event.detailType,
  Time: new Date(event.time),
  Detail: JSON.stringify(event.detail),
});

/** Publishes to `busName`. PutEvents reports refused entries in its answer, not as an error: a
 * refused entry throws, so the stream record is retried. */
export function createEventBridgePublisher(options: EventBridgeOptions, client = createEventBridgeClient(options)): EventPublisher {
  return {
    async publish(event) {
      const out = await client.send(new PutEventsCommand({ Entries: [putEventsEntry(options.busName, event)] }));
      if (out.FailedEntryCount) {
        const entry = out.Entries?.[0];
        throw new EventPublishError(
          `EventBridge refused event ${event.id}: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim(),
        );
      }
    },
  };
}
