/** The local stand-in for the reactions Lambda: the table's stream (stream-reader.ts) handed to
 * core's reactions (the same `react` the Lambda runs), read at once after each commit of this
 * process (a nudge from the Db) and every `pollMs` otherwise. */
import type { Core } from "@gpuaas/core";
import { tableStreamArn } from "@gpuaas/core/aws";
import { react } from "@gpuaas/core/reactions";
import { inLane } from "./dynamodb-lanes";
import { type StreamReader, startStreamReader } from "./stream-reader";

export interface LocalReactor {
  /** Settles once everything committed before the call has had its reactions (tests, benchmarks). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts reacting to every change committed from now on; `endpoint` is DynamoDB Local's. */
export async function startReactor(core: Core, endpoint: string, options: { pollMs?: number } = {}): Promise<LocalReactor> {
  const streamArn = await tableStreamArn(core.db.client, core.db.table);
  if (!streamArn) throw new Error(`Table ${core.db.table} has no stream`);
  const log = core.log.child({ component: "reactions" });
  const reactCore: Core = { ...core, log };
  const reader: StreamReader = await startStreamReader({
    endpoint,
    region: core.config.region,
    streamArn,
    outbound: core.config.outbound,
    log,
    pollMs: options.pollMs ?? 250,
    handle: (records) => inLane("system", async () => (await react(reactCore, records)).firstFailed),
  });
  core.db.afterWrite = () => reader.nudge();
  return {
    settled: () => reader.idle(),
    async stop() {
      core.db.afterWrite = undefined;
      await reader.stop();
    },
  };
}
