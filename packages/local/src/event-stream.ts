/** The local stand-in for the stream subscriber Lambda: reads DynamoDB Local's stream of the table
 * and hands each record to the same mapping and an EventPublisher (the webhook on `npm start`).
 *
 * Position: every shard open at start is read from LATEST (events written while nothing was reading,
 * e.g. while the stack was down, are not sent); shards that appear later (DynamoDB Local rolls its
 * shards over) are read from TRIM_HORIZON once their parent is drained, so nothing is skipped or
 * reordered while the stack runs. Delivery: each event gets the publisher's bounded attempts, then it
 * is logged and dropped, and the reader moves on (at most once per run, in order). The API never
 * waits for any of it: the stream itself is the queue. */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import { mapUnavailableErrors, outboundClientConfig, type OutboundSettings } from "@gpuaas/core/aws/outbound";
import { toDomainEvent, type ChangeRecord } from "@gpuaas/core/event/event";
import type { EventPublisher } from "@gpuaas/core/event/publisher";
import type { Log } from "@gpuaas/core/log";

export interface EventStreamOptions {
  /** DynamoDB Local's endpoint (its Streams API answers there too). */
  endpoint: string;
  region: string;
  streamArn: string;
  outbound: OutboundSettings;
  /** Builds the publisher; `signal` aborts when the reader stops, so no delivery outlives it. */
  publisher: (signal: AbortSignal) => EventPublisher;
  log: Log;
  /** Pause between polls once every shard is drained. */
  pollMs?: number;
}

export interface EventStreamReader {
  /** Aborts whatever is in flight (a GetRecords, a webhook attempt or backoff) and ends the loop. */
  stop(): Promise<void>;
}

interface ShardState {
  id: string;
  parentId?: string;
  /** How to get an iterator when there is none (first read, or after one expired). */
  start: ShardIteratorType;
  iterator?: string;
  lastSequence?: string;
  done: boolean;
}

/** Re-describe the stream every this many polls, to find child shards before a parent closes. */
const DESCRIBE_EVERY_POLLS = 20;
const STOP_GRACE_MS = 500;

/** Starts reading; resolves once every open shard has its LATEST iterator, so nothing written
 * after this returns is missed. */
export async function startEventStream(options: EventStreamOptions): Promise<EventStreamReader> {
  const { streamArn, log } = options;
  const pollMs = options.pollMs ?? 500;
  const client = mapUnavailableErrors(
    new DynamoDBStreamsClient({
      region: options.region,
      endpoint: options.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      ...outboundClientConfig(options.outbound),
    }),
    "DynamoDB Streams",
  );
  const abort = new AbortController();
  const { signal } = abort;
  const publisher = options.publisher(signal);
  // Drained shards stay known (a few per hour at most), so a re-describe never reads them again.
  const shards = new Map<string, ShardState>();
  const opts = { abortSignal: signal };

  async function describeShards(first: boolean) {
    let from: string | undefined;
    do {
      const out = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: from }), opts);
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || shards.has(shard.ShardId)) continue;
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        shards.set(shard.ShardId, {
          id: shard.ShardId,
          parentId: shard.ParentShardId,
          start: first ? "LATEST" : "TRIM_HORIZON",
          // At start, a closed shard holds only the past.
          done: first && closed,
        });
      }
      from = out.StreamDescription?.LastEvaluatedShardId;
    } while (from);
  }

  async function iteratorOf(shard: ShardState): Promise<string | undefined> {
    const out = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ...(shard.lastSequence
          ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: shard.lastSequence }
          : { ShardIteratorType: shard.start }),
      }),
      opts,
    );
    return out.ShardIterator;
  }

  /** A child waits until its parent is drained, so events stay in order across a rollover. */
  const ready = (shard: ShardState) => !shard.done && !(shard.parentId && shards.get(shard.parentId)?.done === false);

  /** Reads `shard` until it has nothing new; true when it closed (time to look for children). */
  async function drain(shard: ShardState): Promise<boolean> {
    for (;;) {
      shard.iterator ??= await iteratorOf(shard);
      if (!shard.iterator) {
        shard.done = true;
        return true;
      }
      let out: { Records?: ChangeRecord[]; NextShardIterator?: string };
      try {
        out = (await client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }), opts)) as typeof out;
      } catch (error) {
        const name = (error as Error).name;
        if (name === "ExpiredIteratorException") {
          shard.iterator = undefined;
          continue;
        }
        if (name === "TrimmedDataAccessException") {
          shard.iterator = undefined;
          shard.lastSequence = undefined;
          shard.start = "TRIM_HORIZON";
          continue;
        }
        if (name === "ResourceNotFoundException") {
          shard.done = true;
          return true;
        }
        throw error;
      }
      for (const record of out.Records ?? []) {
        await deliver(record);
        shard.lastSequence = record.dynamodb?.SequenceNumber ?? shard.lastSequence;
      }
      shard.iterator = out.NextShardIterator;
      if (!shard.iterator) {
        shard.done = true;
        return true;
      }
      if (!out.Records?.length) return false;
    }
  }

  async function deliver(record: ChangeRecord) {
    const event = toDomainEvent(record);
    if (!event) return;
    try {
      await publisher.publish(event);
      log.debug("Event delivered", { eventId: event.id, detailType: event.detailType });
    } catch (error) {
      if (signal.aborted) throw error;
      log.error("Event dropped after its delivery attempts", { eventId: event.id, detailType: event.detailType, error });
    }
  }

  async function loop() {
    let polls = 0;
    let rescan = false;
    while (!signal.aborted) {
      try {
        if (rescan || ++polls % DESCRIBE_EVERY_POLLS === 0) {
          rescan = false;
          await describeShards(false);
        }
        for (const shard of [...shards.values()]) {
          if (signal.aborted) return;
          if (ready(shard) && (await drain(shard))) rescan = true;
        }
      } catch (error) {
        if (signal.aborted) return;
        log.warn("Reading the table's stream failed; retrying", { error });
      }
      if (rescan) continue;
      await pause(pollMs, signal);
    }
  }

  await describeShards(true);
  for (const shard of shards.values()) if (!shard.done) shard.iterator = await iteratorOf(shard);
  const running = loop();
  return {
    async stop() {
      abort.abort();
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
      client.destroy();
    },
  };
}

/** Waits `ms`, or less if `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
