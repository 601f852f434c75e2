/** The single table's physical schema: shared by infra (AWS) and ensureTable (local, tests). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

export const tableSchema = {
  partitionKey: "pk",
  sortKey: "sk",
  ttlAttribute: "expiresAt",
  /** Overloaded GSIs; what each holds is documented in docs/data-model.md. */
  indexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    gsi3: { partitionKey: "gsi3pk", sortKey: "gsi3sk" },
  },
} as const;

export type IndexName = keyof typeof tableSchema.indexes;

/** Creates the table with its indexes and TTL if it does not exist yet; waits until ACTIVE. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "existed"> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return "existed";
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const indexes = Object.entries(tableSchema.indexes);
  const keyNames = [
    tableSchema.partitionKey,
    tableSchema.sortKey,
    ...indexes.flatMap(([, i]) => [i.partitionKey, i.sortKey]),
  ];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
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
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
    }),
  );
  return "created";
}
