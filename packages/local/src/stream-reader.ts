/** The local stand-in for the stream consumers (the events subscriber and the reactions Lambda):
 * reads DynamoDB Local's stream of the table and hands each batch of records to a handler.
 * A `nudge()` (a commit in this process) makes it read at once instead of at its next poll: the
 * handler still acts only on records read from the stream, i.e. on committed state.
 *
 * Position: every shard open at start is read from LATEST (events written while nothing was reading,
 * e.g. while the stack was down, are not sent); shards that appear later (DynamoDB Local rolls its
 * shards over) are read from TRIM_HORIZON once their parent is drained, so nothing is skipped or
 * reordered while the stack runs. Delivery: a handler that reports a failed record gets the batch
 * again from that record, a few times, then the reader logs it and moves on. The API never waits
 * for any of it: the stream itself is the queue. */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import type { Log } from "@gpuaas/core";
import { mapUnavailableErrors, type OutboundSettings, outboundClientConfig } from "@gpuaas/core/aws";
import type { ChangeRecord } from "@gpuaas/core/events";

export interface StreamReaderOptions {
  /** DynamoDB Local's endpoint (its Streams API answers there too). */
  endpoint: string;
  region: string;
  streamArn: string;
  outbound: OutboundSettings;
  /**
   * Handles a batch, in order; answers the index of the first record it could not handle (the
   * batch is handed over again from there), or undefined when all are done. `signal` aborts when
   * the reader stops.
   */
  handle: (records: ChangeRecord[], signal: AbortSignal) => Promise<number | undefined>;
  log: Log;
  /** Pause between polls once every shard is drained (a nudge ends it early). */
  pollMs?: number;
  /** Records per GetRecords call. */
  batchSize?: number;
}

export interface StreamReader {
  /** Read now: something was just committed. */
  nudge(): void;
  /** Settles once a full read of every shard, begun after this call, found nothing new and every
   * record before it was handled: what was committed before the call has had its effects. */
  idle(): Promise<void>;
  /** Aborts whatever is in flight (a GetRecords, a handler's work) and ends the loop. */
  stop(): Promise<void>;
}

/** Times a batch is handed over again from its first failed record before the reader moves on. */
const REDELIVERIES = 3;
const REDELIVERY_PAUSE_MS = 100;

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
export async function startStreamReader(options: StreamReaderOptions): Promise<StreamReader> {
  const { streamArn, log } = options;
  const pollMs = options.pollMs ?? 500;
  const batchSize = options.batchSize ?? 1000;
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
  let nudged = false;
  let wake: (() => void) | undefined;
  /** Waiters for the next quiet round, and those asked during the round in progress (they need the next one). */
  let idleNext: (() => void)[] = [];
  let idleLater: (() => void)[] = [];
  let delivered = 0;
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
        out = (await client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }), opts)) as typeof out;
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
      const records = out.Records ?? [];
      delivered += records.length;
      if (records.length) await deliver(records);
      shard.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.lastSequence;
      shard.iterator = out.NextShardIterator;
      if (!shard.iterator) {
        shard.done = true;
        return true;
      }
      if (!out.Records?.length) return false;
    }
  }

  /** Hands `records` to the handler, again from a failed record a few times, then moves on. */
  async function deliver(records: ChangeRecord[]) {
    let rest = records;
    for (let attempt = 0; rest.length; attempt++) {
      let failed: number | undefined;
      try {
        failed = await options.handle(rest, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        log.warn("Stream handler failed", { error });
        failed = 0;
      }
      if (failed === undefined) return;
      if (attempt >= REDELIVERIES) {
        log.error("Stream records dropped after their redeliveries", { records: rest.length - failed });
        return;
      }
      rest = rest.slice(failed);
      await pause(REDELIVERY_PAUSE_MS, signal);
      if (signal.aborted) return;
    }
  }

  async function loop() {
    let polls = 0;
    let rescan = false;
    while (!signal.aborted) {
      const before = delivered;
      const waiters = idleLater;
      idleLater = [];
      idleNext.push(...waiters);
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
      if (!rescan && delivered === before) {
        const quiet = idleNext;
        idleNext = [];
        for (const resolve of quiet) resolve();
      }
      if (rescan) continue;
      if (nudged) {
        nudged = false;
        continue;
      }
      // Until the next poll, or a nudge, or stop.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
      nudged = false;
    }
  }

  await describeShards(true);
  for (const shard of shards.values()) if (!shard.done) shard.iterator = await iteratorOf(shard);
  const running = loop();
  return {
    nudge() {
      nudged = true;
      wake?.();
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleLater.push(resolve);
        nudged = true;
        wake?.();
      });
    },
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
