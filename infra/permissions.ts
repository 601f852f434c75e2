/** Least privilege on the table: the DynamoDB actions each function is granted, item-level only
 * (no `dynamodb:*`, no table administration), on the table and its indexes. Linking the table
 * grants nothing (infra/storage.ts); these lists do, one per function. test/permissions.unit.test.ts
 * derives, from each handler's code, the DynamoDB calls it can make and requires its list to be
 * exactly that: a call added without its grant, or a grant no code uses, fails the build.
 * Plain data (no SST globals), so the test reads it as it is. */

/** What core's item access patterns use: reads, conditional writes and transactions. */
const ITEM_ACCESS = [
  "BatchGetItem",
  "ConditionCheckItem",
  "DeleteItem",
  "GetItem",
  "PutItem",
  "Query",
  "TransactWriteItems",
  "UpdateItem",
] as const;

export type TableAction = (typeof ITEM_ACCESS)[number];

/** Per function (by its SST component name; the workflow tasks by task key), its table actions. */
export const TABLE_ACTIONS = {
  Api: ITEM_ACCESS,
  ReactionsConsumer: ITEM_ACCESS,
  DailyCostRollup: ITEM_ACCESS,
  MonthlyQuotaReset: ITEM_ACCESS,
  Reconciler: ITEM_ACCESS,
  applyApprovalPolicy: ITEM_ACCESS,
  awaitApproval: ITEM_ACCESS,
  awaitStart: ITEM_ACCESS,
  planRuntime: ITEM_ACCESS,
  drawOutcome: ITEM_ACCESS,
  recordCompletion: ITEM_ACCESS,
  recordFailure: ITEM_ACCESS,
  expireWait: ITEM_ACCESS,
  releaseQuota: ITEM_ACCESS,
} as const satisfies Record<string, readonly TableAction[]>;

export type TableUser = keyof typeof TABLE_ACTIONS;
