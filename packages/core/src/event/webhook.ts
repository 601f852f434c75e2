/** Webhook adapter of the publisher port (npm start): POSTs each event as JSON in EventBridge's
 * envelope, with a timeout per attempt and a bounded number of attempts with backoff. */
import { toEnvelope } from "./event";
import { EventPublishError, type EventPublisher } from "./publisher";

export interface WebhookOptions {
  url: string;
  /** Per attempt, connection to full response. */
  timeoutMs?: number;
  /** Attempts per event, the first included. */
  attempts?: number;
  /** Wait before the 2nd attempt; doubled before each next one. */
  backoffMs?: number;
  /** Aborts an attempt or a backoff in progress (shutdown): publish then throws at once. */
  signal?: AbortSignal;
}

export const WEBHOOK_DEFAULTS = { timeoutMs: 2000, attempts: 3, backoffMs: 250 } as const;

/** Retrying helps with network errors, timeouts, 408, 429 and 5xx; any other answer is final. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export function createWebhookPublisher(options: WebhookOptions): EventPublisher {
  const { url, signal } = options;
  const { timeoutMs, attempts, backoffMs } = { ...WEBHOOK_DEFAULTS, ...options };
  return {
    async publish(event) {
      const body = JSON.stringify(toEnvelope(event));
      let problem = "";
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2), signal);
        signal?.throwIfAborted();
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", "idempotency-key": event.id },
            body,
            signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
          });
          await res.body?.cancel().catch(() => undefined);
          if (res.ok) return;
          problem = `HTTP ${res.status}`;
          if (!retryable(res.status)) break;
        } catch (error) {
          signal?.throwIfAborted();
          problem = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
        }
      }
      throw new EventPublishError(`Webhook ${url} did not accept event ${event.id} (${problem})`);
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
