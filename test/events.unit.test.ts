/** Domain events without a network: the stream record → event mapping, the subscriber Lambda's
 * exact PutEvents calls and partial batch failures (aws-sdk-client-mock), the webhook's retries. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createLogger, DependencyUnavailableError, loadOutboundConfig } from "@gpuaas/core";
import { createEventBridgePublisher, createWebhookPublisher, toDomainEvent } from "@gpuaas/core/events";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { toEnvelope } from "../packages/core/src/event/event";
import { createEventBridgeClient } from "../packages/core/src/event/eventbridge";
import { EventPublishError } from "../packages/core/src/event/publisher";
import { handleStreamBatch } from "../packages/functions/src/events/subscriber";
import { EVENT_SUBSCRIBER_HANDLER } from "../packages/functions/src/handlers";

const JOB = "01JABCDEFGHJKMNPQRSTVWXYZ0";
const AT = "2026-11-23T10:00:00.000Z";

const jobEventItem = (status: string, at = AT, extra: Record<string, unknown> = {}) => ({
  pk: `JOB#${JOB}`,
  sk: `EVENT#${at}#01JEVENT${status}`,
  type: "JobEvent",
  jobId: JOB,
  status,
  actor: "user-1",
  at,
  ...extra,
});

const alertItem = {
  pk: "ORG#org-1",
  sk: "ALERT#2026-11#080",
  type: "BudgetAlert",
  orgId: "org-1",
  period: "2026-11",
  threshold: 80,
  spendMicros: 80_500_000,
  budgetMicros: 100_000_000,
  at: AT,
};

let seq = 100;
/** A stream record as Lambda delivers it (NEW_IMAGE view). */
function record(item: Record<string, unknown>, eventName: "INSERT" | "MODIFY" | "REMOVE" = "INSERT"): DynamoDBRecord {
  const image = marshall(item) as never;
  return {
    eventID: String(seq),
    eventName,
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }) as never,
      ...(eventName === "REMOVE" ? {} : { NewImage: image }),
      SequenceNumber: String(seq++),
      StreamViewType: "NEW_IMAGE",
    },
  };
}

describe("stream record → domain event", () => {
  it("a new JobEvent item is a Job Status Change", () => {
    expect(toDomainEvent(record(jobEventItem("APPROVED", AT, { reason: "looks fine" })))).toEqual({
      id: `JOB#${JOB}#EVENT#${AT}#01JEVENTAPPROVED`,
      source: "gpuaas",
      detailType: "Job Status Change",
      time: AT,
      detail: {
        eventId: `JOB#${JOB}#EVENT#${AT}#01JEVENTAPPROVED`,
        jobId: JOB,
        status: "APPROVED",
        actor: "user-1",
        reason: "looks fine",
        at: AT,
      },
    });
    expect(toDomainEvent(record(jobEventItem("RUNNING")))!.detail).not.toHaveProperty("reason");
  });

  it("a new BudgetAlert item is a Budget Threshold Crossed, money in USD strings", () => {
    expect(toDomainEvent(record(alertItem))).toEqual({
      id: "ORG#org-1#ALERT#2026-11#080",
      source: "gpuaas",
      detailType: "Budget Threshold Crossed",
      time: AT,
      detail: {
        eventId: "ORG#org-1#ALERT#2026-11#080",
        orgId: "org-1",
        period: "2026-11",
        thresholdPercent: 80,
        spendUsd: "80.50",
        budgetUsd: "100.00",
        at: AT,
      },
    });
  });

  it("a new AuditEntry item is an Audit Entry Recorded", () => {
    const entry = {
      pk: "AUDIT",
      sk: "ENTRY#01JAUDIT0000000000000000",
      type: "AuditEntry",
      id: "01JAUDIT0000000000000000",
      at: AT,
      actorId: "admin-1",
      actorRole: "admin",
      action: "user.access",
      target: { kind: "user", id: "user-1" },
      before: { role: "user", active: true },
      after: { role: "admin", active: true },
      requestId: "req-1",
    };
    expect(toDomainEvent(record(entry))).toEqual({
      id: "AUDIT#ENTRY#01JAUDIT0000000000000000",
      source: "gpuaas",
      detailType: "Audit Entry Recorded",
      time: AT,
      detail: {
        eventId: "AUDIT#ENTRY#01JAUDIT0000000000000000",
        entryId: entry.id,
        action: "user.access",
        actor: { id: "admin-1", role: "admin" },
        target: { kind: "user", id: "user-1" },
        before: { role: "user", active: true },
        after: { role: "admin", active: true },
        requestId: "req-1",
        at: AT,
      },
    });
  });

  it("other items, and MODIFY / REMOVE of event items, are no events", () => {
    expect(toDomainEvent(record({ pk: `JOB#${JOB}`, sk: "JOB", type: "Job", status: "RUNNING" }))).toBeUndefined();
    expect(toDomainEvent(record({ pk: "USER#u", sk: "QUOTA#2026-11", limitHours: 10 }))).toBeUndefined();
    expect(toDomainEvent(record(jobEventItem("RUNNING"), "MODIFY"))).toBeUndefined();
    expect(toDomainEvent(record(alertItem, "REMOVE"))).toBeUndefined();
    expect(toDomainEvent({ eventName: "INSERT" })).toBeUndefined();
  });

  it("the webhook envelope has EventBridge's field names", () => {
    const event = toDomainEvent(record(alertItem))!;
    expect(toEnvelope(event)).toEqual({
      id: event.id,
      source: "gpuaas",
      "detail-type": "Budget Threshold Crossed",
      time: AT,
      detail: event.detail,
    });
  });
});

const eventBridge = mockClient(EventBridgeClient);
const BUS = "gpuaas-prod-EventsBus";
const publisher = () =>
  createEventBridgePublisher(
    { busName: BUS, region: "eu-west-1", outbound: { connectTimeoutMs: 100, requestTimeoutMs: 100, maxAttempts: 1 } },
    new EventBridgeClient({ region: "eu-west-1" }),
  );
const log = createLogger("SILENT");
const batch = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const entries = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries);

beforeEach(() => eventBridge.reset());

describe("stream subscriber Lambda", () => {
  it("is named in handlers.ts and exports handler", async () => {
    expect(EVENT_SUBSCRIBER_HANDLER).toBe("packages/functions/src/events/subscriber.handler");
    expect(typeof (await import("../packages/functions/src/events/subscriber")).handler).toBe("function");
  });

  it("reads its settings without a table or JWT secret (it has neither)", () => {
    expect(loadOutboundConfig({ AWS_REGION: "eu-west-1", AWS_MAX_ATTEMPTS: "5" })).toEqual({
      region: "eu-west-1",
      outbound: { connectTimeoutMs: 1000, requestTimeoutMs: 2000, maxAttempts: 5 },
      logLevel: "INFO",
    });
    expect(() => loadOutboundConfig({ AWS_REQUEST_TIMEOUT_MS: "forever" })).toThrow(/AWS_REQUEST_TIMEOUT_MS/);
  });

  it("puts one event per job status change and alert, in stream order, skipping other records", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e" }] });
    const later = "2026-11-23T10:05:00.000Z";
    const out = await handleStreamBatch(
      batch(
        record(jobEventItem("APPROVED")),
        record({ pk: `JOB#${JOB}`, sk: "JOB", type: "Job" }, "MODIFY"),
        record(jobEventItem("RUNNING", later)),
        record(alertItem),
      ),
      publisher(),
      log,
    );
    expect(out).toEqual({ batchItemFailures: [] });
    expect(entries()).toEqual([
      [
        {
          EventBusName: BUS,
          Source: "gpuaas",
          DetailType: "Job Status Change",
          Time: new Date(AT),
          Detail: JSON.stringify({
            eventId: `JOB#${JOB}#EVENT#${AT}#01JEVENTAPPROVED`,
            jobId: JOB,
            status: "APPROVED",
            actor: "user-1",
            at: AT,
          }),
        },
      ],
      [
        {
          EventBusName: BUS,
          Source: "gpuaas",
          DetailType: "Job Status Change",
          Time: new Date(later),
          Detail: JSON.stringify({
            eventId: `JOB#${JOB}#EVENT#${later}#01JEVENTRUNNING`,
            jobId: JOB,
            status: "RUNNING",
            actor: "user-1",
            at: later,
          }),
        },
      ],
      [
        {
          EventBusName: BUS,
          Source: "gpuaas",
          DetailType: "Budget Threshold Crossed",
          Time: new Date(AT),
          Detail: JSON.stringify({
            eventId: "ORG#org-1#ALERT#2026-11#080",
            orgId: "org-1",
            period: "2026-11",
            thresholdPercent: 80,
            spendUsd: "80.50",
            budgetUsd: "100.00",
            at: AT,
          }),
        },
      ],
    ]);
  });

  it("an entry EventBridge refuses (FailedEntryCount) is the batch's failure; later records wait", async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: "e1" }] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "try again" }] });
    const records = [record(jobEventItem("APPROVED")), record(jobEventItem("RUNNING")), record(jobEventItem("COMPLETED"))];
    const out = await handleStreamBatch(batch(...records), publisher(), log);
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }] });
    // The third was not attempted: Lambda re-sends from the second, in order, without the first.
    expect(entries()).toHaveLength(2);
  });

  it("EventBridge not answering is a DependencyUnavailableError, reported as the failed record", async () => {
    // The client maps "not answering" like the DynamoDB and Step Functions clients (outbound.int.test.ts).
    const client = createEventBridgeClient({
      region: "eu-west-1",
      outbound: { connectTimeoutMs: 100, requestTimeoutMs: 100, maxAttempts: 1 },
    });
    expect(client.middlewareStack.identify().join()).toContain("mapUnavailableErrors");
    eventBridge.on(PutEventsCommand).rejects(new DependencyUnavailableError("EventBridge"));
    const first = record(alertItem);
    expect(await handleStreamBatch(batch(first), publisher(), log)).toEqual({
      batchItemFailures: [{ itemIdentifier: first.dynamodb!.SequenceNumber }],
    });
  });
});

describe("webhook publisher", () => {
  const received: { headers: Record<string, unknown>; body: any }[] = [];
  let answers: number[] = [];
  let server: Server;
  let url = "";
  const event = toDomainEvent(record(jobEventItem("APPROVED")))!;

  beforeEach(async () => {
    received.length = 0;
    if (server) return;
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ headers: req.headers, body: JSON.parse(body) });
        res.statusCode = answers.shift() ?? 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it("POSTs the envelope with the event id as idempotency key", async () => {
    await createWebhookPublisher({ url }).publish(event);
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual(JSON.parse(JSON.stringify(toEnvelope(event))));
    expect(received[0]!.headers["idempotency-key"]).toBe(event.id);
  });

  it("retries 5xx with backoff, then succeeds", async () => {
    answers = [503, 500];
    await createWebhookPublisher({ url, backoffMs: 5, attempts: 3 }).publish(event);
    expect(received).toHaveLength(3);
  });

  it("gives up after its attempts, and at once on a 4xx", async () => {
    answers = [500, 500, 500];
    await expect(createWebhookPublisher({ url, backoffMs: 5, attempts: 3 }).publish(event)).rejects.toBeInstanceOf(EventPublishError);
    expect(received).toHaveLength(3);
    received.length = 0;
    answers = [400];
    await expect(createWebhookPublisher({ url, backoffMs: 5, attempts: 3 }).publish(event)).rejects.toThrow(/HTTP 400/);
    expect(received).toHaveLength(1);
  });

  it("an unreachable URL fails within its attempts; an abort stops it at once", async () => {
    const dead = "http://127.0.0.1:9/hook";
    const started = Date.now();
    await expect(createWebhookPublisher({ url: dead, backoffMs: 10, attempts: 2, timeoutMs: 200 }).publish(event)).rejects.toBeInstanceOf(
      EventPublishError,
    );
    expect(Date.now() - started).toBeLessThan(1500);
    const abort = new AbortController();
    const pending = createWebhookPublisher({ url: dead, backoffMs: 10_000, attempts: 3, signal: abort.signal }).publish(event);
    setTimeout(() => abort.abort(), 50);
    const t0 = Date.now();
    await expect(pending).rejects.toBeDefined();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
