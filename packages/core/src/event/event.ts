/** Domain events: what a new JobEvent, BudgetAlert or AuditEntry item means to the world outside. A pure mapping
 * from a table stream record (the item as written, in its transaction) to an EventBridge-shaped
 * event; the Lambda subscriber (AWS) and the local stream reader (npm start) both use it. */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { formatUsd } from "../util/money";

/** EventBridge `source` of every event this app publishes. */
export const EVENT_SOURCE = "gpuaas";

export const DETAIL_TYPES = {
  jobStatusChange: "Job Status Change",
  budgetThresholdCrossed: "Budget Threshold Crossed",
  auditEntryRecorded: "Audit Entry Recorded",
} as const;
export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

export interface JobStatusChangeDetail {
  eventId: string;
  jobId: string;
  status: string;
  actor: string;
  reason?: string;
  at: string;
}

export interface BudgetThresholdCrossedDetail {
  eventId: string;
  orgId: string;
  period: string;
  thresholdPercent: number;
  spendUsd: string;
  budgetUsd: string;
  at: string;
}

/** An admin's or org owner's change (the audit trail, GET /admin/audit). */
export interface AuditEntryRecordedDetail {
  eventId: string;
  entryId: string;
  action: string;
  actor: { id: string; role: string };
  target: { kind: string; id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
  at: string;
}

export interface DomainEvent {
  /** Stable across redeliveries (the item's pk and sk): consumers dedupe on it. */
  id: string;
  source: typeof EVENT_SOURCE;
  detailType: DetailType;
  /** When it happened (the item's `at`), ISO-8601 UTC. */
  time: string;
  detail: JobStatusChangeDetail | BudgetThresholdCrossedDetail | AuditEntryRecordedDetail;
}

/** The part of a stream record the mapping reads: the Lambda event's record and the Streams API's
 * record both fit (their attribute value types differ only in binary values, which we never read). */
export interface ChangeRecord {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, unknown>; OldImage?: Record<string, unknown>; SequenceNumber?: string };
}

type Item = Record<string, unknown>;

/** DynamoDB Local's stream writes an empty map as `{}` instead of `{ M: {} }`: read it as the map it is. */
function repaired(value: unknown): AttributeValue {
  if (!value || typeof value !== "object") return value as AttributeValue;
  const v = value as Record<string, unknown>;
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.M) return { M: Object.fromEntries(Object.entries(v.M as Record<string, unknown>).map(([k, x]) => [k, repaired(x)])) };
  if (v.L) return { L: (v.L as unknown[]).map(repaired) };
  return v as unknown as AttributeValue;
}

/** A stream record's image (NewImage or OldImage) as a plain item. */
// biome-ignore lint/suspicious/noExplicitAny: an item of any type; callers name the type they expect
export function recordImage<T = Record<string, any>>(raw?: Record<string, unknown>): T | undefined {
  return raw ? (unmarshall(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, repaired(v)]))) as T) : undefined;
}

/** The item type a stream record is about, read without unmarshalling the rest. */
export function recordType(record: ChangeRecord): string | undefined {
  const raw = (record.dynamodb?.NewImage ?? record.dynamodb?.OldImage) as Record<string, { S?: string }> | undefined;
  return raw?.type?.S;
}

/** The item types whose INSERTs are events (each is written once and never modified). */
export const EVENT_ITEM_TYPES = ["JobEvent", "BudgetAlert", "AuditEntry"] as const;

/** The domain event a stream record stands for, or undefined: only INSERTs of EVENT_ITEM_TYPES are events. */
export function toDomainEvent(record: ChangeRecord): DomainEvent | undefined {
  const type = recordType(record);
  if (record.eventName !== "INSERT" || !(EVENT_ITEM_TYPES as readonly (string | undefined)[]).includes(type)) return undefined;
  const item = recordImage<Item>(record.dynamodb?.NewImage)!;
  const eventId = `${item.pk}#${item.sk}`;
  switch (item.type) {
    case "JobEvent":
      return event(eventId, DETAIL_TYPES.jobStatusChange, {
        eventId,
        jobId: String(item.jobId),
        status: String(item.status),
        actor: String(item.actor),
        ...(item.reason === undefined ? {} : { reason: String(item.reason) }),
        at: String(item.at),
      });
    case "BudgetAlert":
      return event(eventId, DETAIL_TYPES.budgetThresholdCrossed, {
        eventId,
        orgId: String(item.orgId),
        period: String(item.period),
        thresholdPercent: Number(item.threshold),
        spendUsd: formatUsd(Number(item.spendMicros)),
        budgetUsd: formatUsd(Number(item.budgetMicros)),
        at: String(item.at),
      });
    case "AuditEntry":
      return event(eventId, DETAIL_TYPES.auditEntryRecorded, {
        eventId,
        entryId: String(item.id),
        action: String(item.action),
        actor: { id: String(item.actorId), role: String(item.actorRole) },
        target: item.target as { kind: string; id: string },
        before: (item.before as Record<string, unknown> | undefined) ?? null,
        after: (item.after as Record<string, unknown> | undefined) ?? null,
        requestId: item.requestId === undefined ? null : String(item.requestId),
        at: String(item.at),
      });
    default:
      return undefined;
  }
}

function event(id: string, detailType: DetailType, detail: DomainEvent["detail"]): DomainEvent {
  return { id, source: EVENT_SOURCE, detailType, time: detail.at, detail };
}

/** The event as a webhook receives it: EventBridge's envelope (`detail-type`, `source`, ...). */
export function toEnvelope(event: DomainEvent) {
  return { id: event.id, source: event.source, "detail-type": event.detailType, time: event.time, detail: event.detail };
}
