/** The table stream's subscriber: each new JobEvent / BudgetAlert item becomes an EventBridge event
 * on the app's bus, in stream order. A record that cannot be published is reported as the batch's
 * first failure (ReportBatchItemFailures), so Lambda retries from it and never re-sends the ones
 * before it; the records after it are not attempted, which keeps the order. */

import { createLogger, type Log, loadOutboundConfig } from "@gpuaas/core";
import { createEventBridgePublisher, type EventPublisher, publishRecords } from "@gpuaas/core/events";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { linkedBusName } from "../linked";

let shared: { publisher: EventPublisher; log: Log } | undefined;

function container() {
  if (!shared) {
    const config = loadOutboundConfig();
    shared = {
      publisher: createEventBridgePublisher({ busName: linkedBusName(), region: config.region, outbound: config.outbound }),
      log: createLogger(config.logLevel),
    };
  }
  return shared;
}

/** The batch's handler, on any publisher (tests pass one built on a mocked client). */
export async function handleStreamBatch(event: DynamoDBStreamEvent, publisher: EventPublisher, log: Log): Promise<DynamoDBBatchResponse> {
  const outcome = await publishRecords(event.Records, publisher);
  if (!outcome.failed) return { batchItemFailures: [] };
  const record = event.Records[outcome.failed.index]!;
  log.warn("Event not published; the stream retries from this record", {
    error: outcome.failed.error,
    sequenceNumber: record.dynamodb?.SequenceNumber,
    published: outcome.published,
  });
  return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? "" }] };
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { publisher, log } = container();
  return handleStreamBatch(event, publisher, log);
};
