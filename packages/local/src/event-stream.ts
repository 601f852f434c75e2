/** The local stand-in for the events subscriber Lambda: the table's stream (stream-reader.ts) mapped
 * to domain events and handed to an EventPublisher (the webhook on `npm start`). Each event gets the
 * publisher's bounded attempts, then it is logged and dropped, and the reader moves on (at most once
 * per run, in order). */
import { type EventPublisher, toDomainEvent } from "@gpuaas/core/events";
import { type StreamReader, type StreamReaderOptions, startStreamReader } from "./stream-reader";

export interface EventStreamOptions extends Omit<StreamReaderOptions, "handle" | "batchSize"> {
  /** Builds the publisher; `signal` aborts when the reader stops, so no delivery outlives it. */
  publisher: (signal: AbortSignal) => EventPublisher;
}

export type EventStreamReader = Pick<StreamReader, "stop">;

/** Starts publishing the domain events of records written from now on. */
export async function startEventStream(options: EventStreamOptions): Promise<EventStreamReader> {
  let publisher: EventPublisher | undefined;
  const { log } = options;
  return startStreamReader({
    ...options,
    batchSize: 100,
    async handle(records, signal) {
      publisher ??= options.publisher(signal);
      for (const record of records) {
        const event = toDomainEvent(record);
        if (!event) continue;
        try {
          await publisher.publish(event);
          log.debug("Event delivered", { eventId: event.id, detailType: event.detailType });
        } catch (error) {
          if (signal.aborted) throw error;
          log.error("Event dropped after its delivery attempts", { eventId: event.id, detailType: event.detailType, error });
        }
      }
      return undefined;
    },
  });
}
