/** The paging every multi-item read needs, written once: a Query followed to its last page, and a
 * BatchGetItem split into calls of 100 keys with unprocessed keys asked again. */
import { BatchGetCommand, type BatchGetCommandOutput, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { DependencyUnavailableError } from "../errors";
import type { Db } from "./client";

const UNPROCESSED_ATTEMPTS = 5;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** The items at `keys` (missing ones left out), 100 keys a call, unprocessed keys asked again with
 * backoff. Keys still unprocessed then (storage throttling) are a 503, never silently left out: a
 * caller would read them as missing (an account as deleted, a job as not found). */
export async function batchGetItems<T>(db: Db, keys: Record<string, unknown>[], consistent = false): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let keysLeft: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; keysLeft?.length; attempt++) {
      if (attempt === UNPROCESSED_ATTEMPTS) throw new DependencyUnavailableError("Storage");
      if (attempt > 0) await pause(10 * 2 ** attempt);
      const out: BatchGetCommandOutput = await db.doc.send(
        new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keysLeft, ConsistentRead: consistent } } }),
      );
      found.push(...((out.Responses?.[db.table] ?? []) as T[]));
      keysLeft = out.UnprocessedKeys?.[db.table]?.Keys;
    }
  }
  return found;
}
