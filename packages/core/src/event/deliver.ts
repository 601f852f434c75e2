/** Publishing a batch of stream records in order, shared by the Lambda subscriber and the local reader. */
import { type ChangeRecord, toDomainEvent } from "./event";
import type { EventPublisher } from "./publisher";

export interface BatchOutcome {
  published: number;
  /** The first record that could not be published; nothing after it was attempted. */
  failed?: { index: number; error: unknown };
}

/**
 * Publishes the domain event of each record, in order, stopping at the first failure: a stream is
 * retried from its first failed record, so stopping keeps events in order and sends none twice.
 */
export async function publishRecords(records: ChangeRecord[], publisher: EventPublisher): Promise<BatchOutcome> {
  let published = 0;
  for (const [index, record] of records.entries()) {
    const event = toDomainEvent(record);
    if (!event) continue;
    try {
      await publisher.publish(event);
      published++;
    } catch (error) {
      return { published, failed: { index, error } };
    }
  }
  return { published };
}
