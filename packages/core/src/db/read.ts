/** The paging every multi-item read needs, written once: a Query followed to its last page, and a
 * BatchGetItem split into calls of 100 keys with unprocessed keys asked again. */
import { BatchGetCommand, QueryCommand, type BatchGetCommandOutput, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Db } from "./client";

/** Every item a Query matches, all pages. */
export async function queryAll<T>(db: Db, input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey">): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new QueryCommand({ TableName: db.table, ...input, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as T[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The items at `keys` (missing ones left out), 100 keys a call, unprocessed keys retried a few times. */
export async function batchGetItems<T>(db: Db, keys: Record<string, unknown>[], consistent = false): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let keysLeft: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; keysLeft?.length && attempt < 5; attempt++) {
      const out: BatchGetCommandOutput = await db.doc.send(
        new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keysLeft, ConsistentRead: consistent } } }),
      );
      found.push(...((out.Responses?.[db.table] ?? []) as T[]));
      keysLeft = out.UnprocessedKeys?.[db.table]?.Keys;
    }
  }
  return found;
}
