/** The DynamoDB document client and the table it talks to, bundled as one handle. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "./keys";

export interface Db {
  /** Low-level client, for table administration (ensureTable). */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  table: string;
}

export interface DbOptions {
  tableName: string;
  region: string;
  /** Set for DynamoDB Local; unset in AWS. */
  endpoint?: string;
}

export function createDb({ tableName, region, endpoint }: DbOptions): Db {
  const client = new DynamoDBClient({
    region,
    ...(endpoint
      ? { endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc, table: tableName };
}

/** Health probe: one key lookup that proves the table exists and answers. */
export async function pingTable(db: Db): Promise<void> {
  await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.health() }));
}
