/** Transactions and conditional writes: retries transaction conflicts with jittered backoff and
 * turns cancellations into data the caller can map to domain errors. */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ContentionError } from "../errors";
import type { Db } from "./client";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

export interface CancellationReason {
  code: string;
  /** The item as it was when its condition failed (requires ReturnValuesOnConditionCheckFailure). */
  item?: Record<string, unknown>;
}

/**
 * A transaction assembled from named parts (DynamoDB Toolbox's way): each entity builds its items,
 * the caller adds them under a name, and a cancellation is asked by name (`error.failed("quota")`),
 * so no caller counts positions. A part may hold any number of items (none included).
 */
export class Transaction {
  readonly items: TransactItem[] = [];
  private readonly parts = new Map<string, { from: number; count: number }>();

  /** Adds part `name`; undefined items are left out (a part that does not apply here). */
  add(name: string, ...items: (TransactItem | undefined)[]): this {
    if (this.parts.has(name)) throw new Error(`Transaction part "${name}" added twice`);
    const present = items.filter((item): item is TransactItem => item !== undefined);
    this.parts.set(name, { from: this.items.length, count: present.length });
    this.items.push(...present);
    return this;
  }

  /** Where part `name` sits; an unknown name is a programming error. */
  part(name: string): { from: number; count: number } {
    const part = this.parts.get(name);
    if (!part) throw new Error(`No transaction part "${name}"`);
    return part;
  }
}

/** A transaction was cancelled by at least one failed condition; `reasons[i]` matches item i. */
export class TransactionCancelled extends Error {
  override name = "TransactionCancelled";
  constructor(
    readonly reasons: CancellationReason[],
    private readonly transaction?: Transaction,
  ) {
    super(`Transaction cancelled: ${reasons.map((r) => r.code).join(", ")}`);
  }
  failedAt(index: number): CancellationReason | undefined {
    const reason = this.reasons[index];
    return reason?.code === "ConditionalCheckFailed" ? reason : undefined;
  }
  /** The failed condition of part `name` (its first item that failed), if any. */
  failed(name: string): CancellationReason | undefined {
    return this.failedEach(name).find((r) => r !== undefined);
  }
  /** The failed condition of each item of part `name`, in order (undefined: that one held). */
  failedEach(name: string): (CancellationReason | undefined)[] {
    if (!this.transaction) throw new Error("This cancellation has no named parts");
    const { from, count } = this.transaction.part(name);
    return Array.from({ length: count }, (_, i) => this.failedAt(from + i));
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

// Many concurrent writers on one quota item collide often; full jitter spreads them out.
const defaultRetry: RetryPolicy = { maxAttempts: 25, baseDelayMs: 10, maxDelayMs: 400 };

const RETRYABLE_CODES = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs TransactWriteItems; retries conflicts; throws TransactionCancelled when a condition failed
 * (asked by part name when `items` is a Transaction). */
export async function transactWrite(db: Db, transaction: TransactItem[] | Transaction, retry: RetryPolicy = defaultRetry): Promise<void> {
  const named = transaction instanceof Transaction ? transaction : undefined;
  const items = named ? named.items : (transaction as TransactItem[]);
  for (let attempt = 1; ; attempt++) {
    try {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
      db.afterWrite?.();
      return;
    } catch (error) {
      const reasons = cancellationReasons(error);
      const retryable =
        reasons === undefined
          ? isTransientError(error)
          : !reasons.some((r) => r.code === "ConditionalCheckFailed") && reasons.some((r) => RETRYABLE_CODES.has(r.code));
      if (!retryable) {
        if (reasons) throw new TransactionCancelled(reasons, named);
        throw error;
      }
      if (attempt >= retry.maxAttempts) {
        throw new ContentionError("Too many concurrent updates; please retry", { cause: error });
      }
      const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}

function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof TransactionCanceledException) && (error as Error)?.name !== "TransactionCanceledException") {
    return undefined;
  }
  const raw = (error as TransactionCanceledException).CancellationReasons ?? [];
  return raw.map((r) => ({
    code: r.Code ?? "None",
    item: r.Item ? unmarshall(r.Item as Parameters<typeof unmarshall>[0]) : undefined,
  }));
}

function isTransientError(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === "TransactionInProgressException" || name === "TransactionConflictException";
}
