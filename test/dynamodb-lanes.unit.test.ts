/** The local stack's lanes in front of DynamoDB Local: at most `inFlight` calls at once, a freed slot
 * to the oldest system call before any api call, and a bounded wait that fails as a timeout. */

import { describe, expect, it } from "vitest";
import { createLaneGate, gateClient, inLane, type Lane } from "../packages/local/src/dynamodb-lanes";

describe("lane gate", () => {
  it("holds calls beyond inFlight and hands freed slots to system calls first, each lane in arrival order", async () => {
    const gate = createLaneGate({ inFlight: 2, maxWaitMs: 5000 });
    const order: string[] = [];
    const call = (lane: Lane, name: string) => gate.acquire(lane).then(() => order.push(name));
    await Promise.all([call("api", "first"), call("api", "second")]);
    const queued = [call("api", "api-1"), call("system", "system-1"), call("api", "api-2"), call("system", "system-2")];
    await Promise.resolve();
    expect(gate.load).toEqual({ inFlight: 2, waiting: { system: 2, api: 2 } });

    for (let i = 0; i < 4; i++) {
      gate.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(queued);
    expect(order).toEqual(["first", "second", "system-1", "system-2", "api-1", "api-2"]);
    expect(gate.load.inFlight).toBe(2);
    gate.release();
    gate.release();
    expect(gate.load).toEqual({ inFlight: 0, waiting: { system: 0, api: 0 } });
  });

  it("fails a call that waits longer than maxWaitMs as a TimeoutError, and forgets it", async () => {
    const gate = createLaneGate({ inFlight: 1, maxWaitMs: 30 });
    await gate.acquire("system");
    const waited = gate.acquire("api");
    await expect(waited).rejects.toMatchObject({ name: "TimeoutError" });
    expect(gate.load).toEqual({ inFlight: 1, waiting: { system: 0, api: 0 } });
    gate.release();
    await gate.acquire("api");
    expect(gate.load.inFlight).toBe(1);
  });

  it("a gated client sends each call in its caller's lane; code outside any lane is system", async () => {
    const gate = createLaneGate({ inFlight: 1, maxWaitMs: 5000 });
    let middleware: ((next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>) | undefined;
    gateClient(
      {
        middlewareStack: {
          add: (m) => {
            middleware = m;
          },
        },
      },
      gate,
    );
    const seen: string[] = [];
    const send = (name: string) => middleware!(async () => seen.push(name))({});
    await gate.acquire("system");
    const fromApi = inLane("api", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return send("api");
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fromElsewhere = send("system");
    await Promise.resolve();
    expect(gate.load.waiting).toEqual({ system: 1, api: 1 });
    gate.release();
    await Promise.all([fromApi, fromElsewhere]);
    expect(seen).toEqual(["system", "api"]);
    expect(gate.load).toEqual({ inFlight: 0, waiting: { system: 0, api: 0 } });
  });
});
