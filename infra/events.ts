/** Domain events: the table's stream → the subscriber Lambda → the app's EventBridge bus
 * (detail-types "Job Status Change" and "Budget Threshold Crossed", source "gpuaas"). */
import { EVENT_SUBSCRIBER_HANDLER } from "@gpuaas/functions/handlers";
import { table } from "./storage";

export const bus = new sst.aws.Bus("Events");

table.subscribe(
  "EventSubscriber",
  {
    handler: EVENT_SUBSCRIBER_HANDLER,
    description: "Table stream to EventBridge: job status changes and budget alerts",
    link: [bus],
    timeout: "60 seconds",
  },
  {
    // Only new event items wake the function; the handler checks the same again.
    filters: [{ eventName: ["INSERT"], dynamodb: { NewImage: { type: { S: ["JobEvent", "BudgetAlert"] } } } }],
    transform: {
      eventSourceMapping: (args) => {
        // The handler reports its first failed record; Lambda retries from there, in order.
        args.functionResponseTypes = ["ReportBatchItemFailures"];
      },
    },
  },
);
