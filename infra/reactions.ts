/** Reactions (SPEC §10): the table's stream → the reactions consumer Lambda, which runs what a
 * committed change means for other jobs, pools and teams: admission passes, cancelling dependents,
 * answering or starting the jobs' executions, budget alerts. Beside the events subscriber, on the
 * same stream. */
import { REACTIONS_HANDLER } from "../packages/functions/src/handlers";
import { RESERVED_CONCURRENCY } from "./defaults";
import { table, tableAccess } from "./storage";
import { jobWorkflow } from "./workflow";

/** Records whose reactions kept failing (inspect, fix, re-drive; the reconciler repairs meanwhile). */
export const reactionDeadLetters = new sst.aws.Queue("ReactionDeadLetters");

table.subscribe(
  "ReactionsConsumer",
  {
    handler: REACTIONS_HANDLER,
    description: "Table stream to reactions: admission, dependents, executions, budget alerts",
    link: [table, jobWorkflow, reactionDeadLetters],
    permissions: [tableAccess("ReactionsConsumer")],
    timeout: "60 seconds",
    // Passes of one GPU type coalesce inside an instance; few instances keep them from overlapping.
    concurrency: { reserved: RESERVED_CONCURRENCY.reactions },
  },
  {
    // Only the items reactions read: jobs, queue entries, pools and org spend.
    filters: [{ dynamodb: { NewImage: { type: { S: ["Job", "QueueEntry", "Cluster", "OrgSpend"] } } } }],
    transform: {
      eventSourceMapping: (args) => {
        // No batching window: a job's end and the next start are a handover of the pool.
        args.maximumBatchingWindowInSeconds = 0;
        args.batchSize = 100;
        // One batch per shard at a time, in order.
        args.parallelizationFactor = 1;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.maximumRetryAttempts = 20;
        args.bisectBatchOnFunctionError = true;
        args.destinationConfig = { onFailure: { destinationArn: reactionDeadLetters.arn } };
      },
    },
  },
);
