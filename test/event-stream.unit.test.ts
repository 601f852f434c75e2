/** The local stream reader against a mocked Streams API (aws-sdk-client-mock): where it starts, how it
 * follows DynamoDB Local's shard rollover in order, and an expired iterator. No DynamoDB Local. */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createLogger } from "@gpuaas/core";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DomainEvent } from "../packages/core/src/event/event";
import { type EventStreamReader, startEventStream } from "../packages/local/src/event-stream";
import { eventually } from "./support/wait";

const STREAM = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-11-23T10:00:00.000";
const streams = mockClient(DynamoDBStreamsClient);
const meta = { $metadata: {} };

const jobEvent = (status: string, seq: string) => ({
  eventName: "INSERT" as const,
  dynamodb: {
    SequenceNumber: seq,
    NewImage: marshall({
      pk: "JOB#j",
      sk: `EVENT#${seq}`,
      type: "JobEvent",
      jobId: "j",
      status,
      actor: "a",
      at: `2026-11-23T10:00:0${seq}.000Z`,
    }),
  },
});

const shard = (id: string, parent?: string, closed = false) => ({
  ShardId: id,
  ...(parent ? { ParentShardId: parent } : {}),
  SequenceNumberRange: { StartingSequenceNumber: "0", ...(closed ? { EndingSequenceNumber: "9" } : {}) },
});

let published: string[];
let reader: EventStreamReader | undefined;
const start = () =>
  startEventStream({
    endpoint: "http://127.0.0.1:1",
    region: "us-east-1",
    streamArn: STREAM,
    outbound: { connectTimeoutMs: 100, requestTimeoutMs: 100, maxAttempts: 1 },
    publisher: () => ({ publish: async (e: DomainEvent) => void published.push((e.detail as { status: string }).status) }),
    log: createLogger("SILENT"),
    pollMs: 5,
  });

beforeEach(() => {
  streams.reset();
  published = [];
});
afterEach(async () => {
  await reader?.stop();
  reader = undefined;
});

describe("local stream reader", () => {
  it("starts open shards at LATEST and ignores shards already closed at start", async () => {
    streams
      .on(DescribeStreamCommand)
      .resolves({ StreamDescription: { Shards: [shard("old", undefined, true), shard("open", "old")] }, ...meta });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: "it", ...meta });
    streams.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: "it", ...meta });
    reader = await start();
    expect(streams.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input)).toEqual([
      { StreamArn: STREAM, ShardId: "open", ShardIteratorType: "LATEST" },
    ]);
  });

  it("follows a shard rollover: the child is read from TRIM_HORIZON once its parent is drained, in order", async () => {
    streams
      .on(DescribeStreamCommand)
      .resolvesOnce({ StreamDescription: { Shards: [shard("A")] }, ...meta })
      // The child shows up while A is still open; it must wait for A.
      .resolves({ StreamDescription: { Shards: [shard("A", undefined, true), shard("B", "A")] }, ...meta });
    streams.on(GetShardIteratorCommand, { ShardId: "A" }).resolves({ ShardIterator: "a1", ...meta });
    streams.on(GetShardIteratorCommand, { ShardId: "B" }).resolves({ ShardIterator: "b1", ...meta });
    streams
      .on(GetRecordsCommand, { ShardIterator: "a1" })
      .resolves({ Records: [jobEvent("PENDING", "1")], NextShardIterator: "a2", ...meta });
    streams.on(GetRecordsCommand, { ShardIterator: "a2" }).resolves({ Records: [jobEvent("APPROVED", "2")], ...meta }); // closed
    streams
      .on(GetRecordsCommand, { ShardIterator: "b1" })
      .resolves({ Records: [jobEvent("RUNNING", "3")], NextShardIterator: "b2", ...meta });
    streams.on(GetRecordsCommand, { ShardIterator: "b2" }).resolves({ Records: [], NextShardIterator: "b2", ...meta });
    reader = await start();
    await eventually("three events", () => published.length === 3, 2000, 5);
    expect(published).toEqual(["PENDING", "APPROVED", "RUNNING"]);
    expect(streams.commandCalls(GetShardIteratorCommand).map((c) => [c.args[0].input.ShardId, c.args[0].input.ShardIteratorType])).toEqual([
      ["A", "LATEST"],
      ["B", "TRIM_HORIZON"],
    ]);
  });

  it("an expired iterator continues after the last record delivered", async () => {
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [shard("A")] }, ...meta });
    streams.on(GetShardIteratorCommand, { ShardIteratorType: "LATEST" }).resolves({ ShardIterator: "a1", ...meta });
    streams.on(GetShardIteratorCommand, { ShardIteratorType: "AFTER_SEQUENCE_NUMBER" }).resolves({ ShardIterator: "a3", ...meta });
    streams
      .on(GetRecordsCommand, { ShardIterator: "a1" })
      .resolves({ Records: [jobEvent("PENDING", "1")], NextShardIterator: "a2", ...meta });
    streams.on(GetRecordsCommand, { ShardIterator: "a2" }).rejects(new ExpiredIteratorException({ message: "expired", ...meta }));
    streams
      .on(GetRecordsCommand, { ShardIterator: "a3" })
      .resolvesOnce({ Records: [jobEvent("APPROVED", "2")], NextShardIterator: "a3", ...meta })
      .resolves({ Records: [], NextShardIterator: "a3", ...meta });
    reader = await start();
    await eventually("two events", () => published.length === 2, 2000, 5);
    expect(published).toEqual(["PENDING", "APPROVED"]);
    expect(streams.commandCalls(GetShardIteratorCommand, { ShardIteratorType: "AFTER_SEQUENCE_NUMBER" })[0]!.args[0].input).toMatchObject({
      ShardId: "A",
      SequenceNumber: "1",
    });
  });
});
