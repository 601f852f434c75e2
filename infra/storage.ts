/** The one DynamoDB table. Keys, GSIs and the TTL attribute (idempotency records expire) come
 * from core's tableSchema, the same definition ensureTable gives DynamoDB Local. */
import { tableSchema } from "../packages/core/src/db/table";
import { persistentStage } from "./defaults";
import { TABLE_ACTIONS, type TableUser } from "./permissions";

// Linking the table gives a function its name only: SST's own Dynamo link would grant `dynamodb:*`
// (DeleteTable and UpdateTable included). Each function's actions come from tableAccess instead.
sst.Linkable.wrap(sst.aws.Dynamo, (dynamo) => ({ properties: { name: dynamo.name } }));

const indexes = Object.entries(tableSchema.indexes);
const keyAttributes = [
  tableSchema.partitionKey,
  tableSchema.sortKey,
  ...indexes.flatMap(([, index]) => [index.partitionKey, index.sortKey]),
];

export const table = new sst.aws.Dynamo("Table", {
  fields: Object.fromEntries(keyAttributes.map((name) => [name, "string" as const])),
  primaryIndex: { hashKey: tableSchema.partitionKey, rangeKey: tableSchema.sortKey },
  globalIndexes: Object.fromEntries(indexes.map(([name, index]) => [name, { hashKey: index.partitionKey, rangeKey: index.sortKey }])),
  ttl: tableSchema.ttlAttribute,
  // Domain events (infra/events.ts) and reactions (infra/reactions.ts) come from this stream;
  // tableSchema.stream is NEW_AND_OLD_IMAGES.
  stream: "new-and-old-images",
  // Every stage that keeps its data (removal "retain"); point-in-time recovery is on for every table (SST's default).
  deletionProtection: persistentStage(),
});

/** The item-level table actions function `user` is granted (infra/permissions.ts), on the table and its indexes. */
export const tableAccess = (user: TableUser) => ({
  actions: TABLE_ACTIONS[user].map((action) => `dynamodb:${action}`),
  resources: [table.arn, $interpolate`${table.arn}/index/*`],
});
