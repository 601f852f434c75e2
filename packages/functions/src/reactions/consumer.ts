/** The table stream's reactions consumer (SPEC §10): each batch of changes goes to core's reactions
 * (admission, dependents, the jobs' executions, budget alerts), the same `react` the local stack
 * runs. A batch whose reactions failed reports its first failed record (ReportBatchItemFailures):
 * Lambda retries from it; the reactions are idempotent, so records seen again change nothing more. */

import type { Core } from "@gpuaas/core";
import type { ChangeRecord } from "@gpuaas/core/events";
import { react } from "@gpuaas/core/reactions";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { lambdaCore } from "../linked";

/** The batch's handler, on any core (tests pass one on DynamoDB Local). */
export async function handleReactionBatch(event: DynamoDBStreamEvent, core: Core): Promise<DynamoDBBatchResponse> {
  const { firstFailed } = await react(core, event.Records as ChangeRecord[]);
  if (firstFailed === undefined) return { batchItemFailures: [] };
  return { batchItemFailures: [{ itemIdentifier: event.Records[firstFailed]?.dynamodb?.SequenceNumber ?? "" }] };
}

export const handler = async (event: DynamoDBStreamEvent, context?: { awsRequestId?: string }): Promise<DynamoDBBatchResponse> => {
  const core = lambdaCore();
  return handleReactionBatch(event, { ...core, log: core.log.child({ requestId: context?.awsRequestId }) });
};
