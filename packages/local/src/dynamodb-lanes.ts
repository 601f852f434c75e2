/** Locally, every caller shares one DynamoDB Local: a single Java process on this machine, whose calls
 * slow from a few ms to tens of ms once a burst of requests queues a hundred of them at once. In AWS
 * the table scales and nothing here applies. So the local stack gives its calls two lanes: "system"
 * (the reactions, i.e. admission and its handovers, and the workflow's task steps) and "api" (HTTP
 * requests). At most `inFlight` calls are at DynamoDB Local at a time; a free slot goes to the oldest
 * waiting system call, then the oldest api call. A burst of submissions then delays a job's start by
 * one call at most, instead of by the whole burst. A call that waits longer than `maxWaitMs` for a
 * slot fails as a timeout, which the client maps to DependencyUnavailableError (a fast 503), so a
 * stalled DynamoDB Local still answers as it would without lanes. */
import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareClient } from "@gpuaas/core/aws";

export type Lane = "system" | "api";

const current = new AsyncLocalStorage<Lane>();

/** Runs `fn` (and everything it awaits) in `lane`; code outside any lane is "system". */
export function inLane<T>(lane: Lane, fn: () => T): T {
  return current.run(lane, fn);
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export interface LaneGate {
  /** Resolves once the caller holds a slot; rejects with a TimeoutError after `maxWaitMs`. */
  acquire(lane: Lane): Promise<void>;
  release(): void;
  /** Calls holding a slot and waiting for one, for tests. */
  readonly load: { inFlight: number; waiting: Record<Lane, number> };
}

export function createLaneGate({ inFlight, maxWaitMs }: { inFlight: number; maxWaitMs: number }): LaneGate {
  let busy = 0;
  const queues: Record<Lane, Waiter[]> = { system: [], api: [] };
  return {
    acquire(lane) {
      if (busy < inFlight) {
        busy++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const queue = queues[lane];
        const waiter: Waiter = {
          grant: () => {
            clearTimeout(waiter.timer);
            resolve();
          },
          timer: setTimeout(() => {
            queue.splice(queue.indexOf(waiter), 1);
            const error = new Error(`No DynamoDB Local slot within ${maxWaitMs} ms`);
            error.name = "TimeoutError";
            reject(error);
          }, maxWaitMs),
        };
        queue.push(waiter);
      });
    },
    release() {
      // The slot passes straight to the next waiter, system lane first; busy stays the same.
      const next = queues.system.shift() ?? queues.api.shift();
      if (next) next.grant();
      else busy--;
    },
    get load() {
      return { inFlight: busy, waiting: { system: queues.system.length, api: queues.api.length } };
    },
  };
}

/** Puts every call through `client` (and the document clients built on it) through `gate`, in the
 * caller's lane. Inside the client's error mapping, so a slot timeout becomes a 503 like any other. */
export function gateClient(client: MiddlewareClient, gate: LaneGate): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      await gate.acquire(current.getStore() ?? "system");
      try {
        return await next(args);
      } finally {
        gate.release();
      }
    },
    { step: "initialize", name: "dynamoDbLocalLanes", priority: "low" },
  );
}
