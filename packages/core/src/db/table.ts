/** The single table's physical schema: shared by infra (AWS) and ensureTable (local, tests). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";

export const tableSchema = {
  partitionKey: "pk",
  sortKey: "sk",
  ttlAttribute: "expiresAt",
  /** The stream domain events are published from (event/) and reactions are driven by
   * (reactions/): each change with the item before and after it. */
  stream: "NEW_AND_OLD_IMAGES",
  /** Overloaded GSIs; what each holds is documented in docs/data-model.md. */
  indexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    gsi3: { partitionKey: "gsi3pk", sortKey: "gsi3sk" },
  },
} as const;

export type IndexName = keyof typeof tableSchema.indexes;

const streamSpecification = { StreamEnabled: true, StreamViewType: tableSchema.stream } as const;

/** Creates the table with its indexes, stream and TTL if it does not exist yet; waits until ACTIVE.
 * A table created before it had this stream (an older local data dir) gets it: a stream of another
 * view type is turned off first (a stream's view type cannot change in place). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "existed"> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const stream = Table?.StreamSpecification;
    if (!stream?.StreamEnabled || stream.StreamViewType !== tableSchema.stream) {
      if (stream?.StreamEnabled) {
        await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }));
        await waitUntilActive(client, tableName);
      }
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: streamSpecification }));
      await waitUntilActive(client, tableName);
    }
    return "existed";
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const indexes = Object.entries(tableSchema.indexes);
  const keyNames = [tableSchema.partitionKey, tableSchema.sortKey, ...indexes.flatMap(([, i]) => [i.partitionKey, i.sortKey])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        StreamSpecification: streamSpecification,
        AttributeDefinitions: keyNames.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: tableSchema.partitionKey, KeyType: "HASH" },
          { AttributeName: tableSchema.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: indexes.map(([IndexName, i]) => ({
          IndexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: "HASH" },
            { AttributeName: i.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
  } catch (error) {
    // Another process created it between our describe and create.
    if ((error as Error).name !== "ResourceInUseException") throw error;
  }
  await waitUntilActive(client, tableName);
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
    }),
  );
  return "created";
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The ARN of the table's stream (DescribeTable's LatestStreamArn); undefined if it has none. */
export async function tableStreamArn(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  return Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
}
