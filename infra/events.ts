/** Domain events: the table's stream → the subscriber Lambda → the app's EventBridge bus
 * (detail-types "Job Status Change", "Budget Threshold Crossed" and "Audit Entry Recorded", source "gpuaas"). */
import { EVENT_ITEM_TYPES } from "../packages/core/src/event/event";
import { EVENT_SUBSCRIBER_HANDLER } from "../packages/functions/src/handlers";
import { RESERVED_CONCURRENCY } from "./defaults";
import { table } from "./storage";

export const bus = new sst.aws.Bus("Events");

/** Where a stream record goes when EventBridge kept refusing it (inspect, fix, re-drive): never a
 * silent drop, and one bad record does not hold up its shard for the stream's 24 h retention. */
export const eventDeadLetters = new sst.aws.Queue("EventDeadLetters");

table.subscribe(
  "EventSubscriber",
  {
    handler: EVENT_SUBSCRIBER_HANDLER,
    description: "Table stream to EventBridge: job status changes and budget alerts",
    // The queue link also lets the event source mapping send failed records there.
    link: [bus, eventDeadLetters],
    timeout: "60 seconds",
    concurrency: { reserved: RESERVED_CONCURRENCY.eventsSubscriber },
  },
  {
    // Only new event items wake the function; the handler checks the same again.
    filters: [{ eventName: ["INSERT"], dynamodb: { NewImage: { type: { S: [...EVENT_ITEM_TYPES] } } } }],
    transform: {
      eventSourceMapping: (args) => {
        // The handler reports its first failed record; Lambda retries from there, in order.
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        // Bounded: after this many tries (minutes of backoff) the record's metadata goes to the queue.
        args.maximumRetryAttempts = 50;
        args.destinationConfig = { onFailure: { destinationArn: eventDeadLetters.arn } };
      },
    },
  },
);
