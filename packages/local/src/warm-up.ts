/** Warms DynamoDB Local up before `npm start` answers. A fresh JVM interprets its code until the
 * JIT compiles the hot paths, so the first few thousand requests are several times slower than the
 * rest (docs/performance.md, "What the replay shows": a 400-job replay's first jobs started on an
 * empty pool in 0.5 – 0.7 s with it, 1.3 s without).
 * So the stack first runs a short mixed workload of the calls the API, the workflow tasks and the
 * admission passes make (consistent reads, conditional puts and updates, 4-item transactions,
 * queries of a few hundred items, batch reads, stream reads) on a scratch table of its own, then
 * deletes it. The real table is never touched, so nothing of it reaches the reactions. Best
 * effort: a failure is logged and the stack starts anyway. */
import { CreateTableCommand, DeleteTableCommand, type DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Log } from "@gpuaas/core";

export interface WarmUpOptions {
  client: DynamoDBClient;
  endpoint: string;
  region: string;
  /** How long the workload runs, in ms; 0 skips the warm-up. */
  budgetMs: number;
  log: Log;
  /** Calls in flight at once (the API, the workflow and the reactions overlap too). */
  concurrency?: number;
}

export interface WarmUpReport {
  calls: number;
  ms: number;
}

const PAYLOAD = "x".repeat(400);
const PREFIX = "gpuaas-warm-up-";
/** Each call of the stream client gives up after this long (the table's client has its own). */
const STREAM_CALL_TIMEOUT_MS = 2000;
const ITEMS = 300;

/** Runs the warm-up workload for about `budgetMs`; resolves with what it did (never rejects). */
export async function warmUpDynamoDbLocal(options: WarmUpOptions): Promise<WarmUpReport> {
  const started = performance.now();
  if (options.budgetMs <= 0) return { calls: 0, ms: 0 };
  const table = `${PREFIX}${process.pid}-${Date.now()}`;
  const doc = DynamoDBDocumentClient.from(options.client);
  const streams = new DynamoDBStreamsClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
    requestHandler: { requestTimeout: STREAM_CALL_TIMEOUT_MS, connectionTimeout: STREAM_CALL_TIMEOUT_MS },
  });
  let calls = 0;
  let stop = false;
  try {
    // Scratch tables of a start that was interrupted (Ctrl-C during the warm-up) go first.
    const left = (await options.client.send(new ListTablesCommand({}))).TableNames ?? [];
    for (const name of left.filter((t) => t.startsWith(PREFIX))) await options.client.send(new DeleteTableCommand({ TableName: name }));
    const out = await options.client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
      }),
    );
    const sk = (i: number) => `WAIT#${String(i % ITEMS).padStart(5, "0")}`;
    for (let i = 0; i < ITEMS; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, k) =>
          doc.send(new PutCommand({ TableName: table, Item: { pk: "Q", sk: sk(i + k), payload: PAYLOAD, n: 0 } })),
        ),
      );
      calls += 25;
    }
    const ops: ((i: number) => Promise<unknown>)[] = [
      (i) => doc.send(new GetCommand({ TableName: table, Key: { pk: "Q", sk: sk(i) }, ConsistentRead: true })),
      (i) =>
        doc.send(
          new PutCommand({
            TableName: table,
            Item: { pk: `J#${i}`, sk: "JOB", payload: PAYLOAD, n: i },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      (i) =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: "Q", sk: sk(i) },
            UpdateExpression: "SET n = n + :one, #at = :at",
            ConditionExpression: "attribute_exists(pk) AND n >= :zero",
            ExpressionAttributeNames: { "#at": "at" },
            ExpressionAttributeValues: { ":one": 1, ":zero": 0, ":at": new Date().toISOString() },
          }),
        ),
      (i) =>
        doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: { pk: `T#${i}`, sk: "JOB", payload: PAYLOAD },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              { Put: { TableName: table, Item: { pk: `T#${i}`, sk: "EVENT#1", payload: PAYLOAD } } },
              {
                Update: {
                  TableName: table,
                  Key: { pk: "Q", sk: sk(i + 1) },
                  UpdateExpression: "SET n = n + :one",
                  ExpressionAttributeValues: { ":one": 1 },
                },
              },
              { ConditionCheck: { TableName: table, Key: { pk: "Q", sk: sk(i + 2) }, ConditionExpression: "attribute_exists(pk)" } },
            ],
          }),
        ),
      () =>
        doc.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :q AND begins_with(sk, :wait)",
            ExpressionAttributeValues: { ":q": "Q", ":wait": "WAIT#" },
            Limit: 200,
            ConsistentRead: true,
          }),
        ),
      (i) =>
        doc.send(
          new BatchGetCommand({
            RequestItems: { [table]: { Keys: Array.from({ length: 20 }, (_, k) => ({ pk: "Q", sk: sk(i + k) })), ConsistentRead: true } },
          }),
        ),
    ];
    const readStream = async () => {
      const arn = out.TableDescription?.LatestStreamArn;
      if (!arn) return;
      const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards?.[0]?.ShardId;
      if (!shard) return;
      let iterator = (
        await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }))
      ).ShardIterator;
      for (let k = 0; k < 20 && iterator; k++) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
        iterator = page.NextShardIterator;
        calls++;
      }
    };
    let next = 0;
    const deadline = started + options.budgetMs;
    // Every kind of call is made at least once overall, however slow the machine; the first
    // failure stops every worker before the table goes.
    const worker = async () => {
      while (!stop && (next < ops.length || performance.now() < deadline)) {
        const i = next++;
        await ops[i % ops.length]!(i);
        calls++;
        if (i % 200 === 0) await readStream();
      }
    };
    const ended = await Promise.allSettled(
      Array.from({ length: options.concurrency ?? 8 }, () =>
        worker().catch((error) => {
          stop = true;
          throw error;
        }),
      ),
    );
    const failed = ended.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (error) {
    options.log.warn("DynamoDB Local warm-up cut short; starting anyway", { error });
  } finally {
    stop = true;
    streams.destroy();
    // Deleted whether or not its creation was answered (a table that does not exist: nothing to do).
    await options.client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
  const report = { calls, ms: Math.round(performance.now() - started) };
  options.log.info("DynamoDB Local warmed up", report);
  return report;
}
