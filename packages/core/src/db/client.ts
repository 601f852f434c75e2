/** The DynamoDB document client and the table it talks to, bundled as one handle. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { mapUnavailableErrors, type OutboundSettings, outboundClientConfig } from "../aws/outbound";

export interface Db {
  /** Low-level client, for table administration (ensureTable). */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  table: string;
  /** Called after each committed write that may call for reactions (transactions, pool changes):
   * the local stack's stream reader reads at once instead of at its next poll. Unset in AWS. */
  afterWrite?: () => void;
}

export interface DbOptions {
  tableName: string;
  region: string;
  /** Set for DynamoDB Local; unset in AWS. */
  endpoint?: string;
  /** Timeouts and attempts of every call; a call that runs out throws DependencyUnavailableError. */
  outbound: OutboundSettings;
}

export function createDb({ tableName, region, endpoint, outbound }: DbOptions): Db {
  const client = new DynamoDBClient({
    region,
    ...outboundClientConfig(outbound),
    ...(endpoint ? { endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
  mapUnavailableErrors(client, "DynamoDB");
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc, table: tableName };
}

/** Never written: the health check's GetItem only proves the table answers. */
const HEALTH_KEY = { pk: "HEALTH", sk: "HEALTH" };

/** Health probe: one key lookup that proves the table exists and answers. */
export async function pingTable(db: Db): Promise<void> {
  await db.doc.send(new GetCommand({ TableName: db.table, Key: HEALTH_KEY }));
}
