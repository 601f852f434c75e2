/** The whole system on one machine: DynamoDB Local, the table, the bootstrap admin, the local
 * workflow engine and the Hono app on the local HTTP server (http-server.ts). main.ts runs it;
 * end-to-end tests start it too. */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { type Core, createCore, loadConfig, parseSettings } from "@gpuaas/core";
import { EmailSchema, ensureAdmin, PasswordSchema } from "@gpuaas/core/api";
import { ensureTable, tableStreamArn } from "@gpuaas/core/aws";
import { createWebhookPublisher } from "@gpuaas/core/events";
import { reconcile, resetQuotas, rollupPreviousDay } from "@gpuaas/core/schedules";
import { createApp } from "@gpuaas/functions";
import * as z from "zod";
import { createLaneGate, gateClient, inLane } from "./dynamodb-lanes";
import { type DynamoDbLocal, freePort, PortInUseError, startDynamoDbLocal } from "./dynamodb-local";
import { type EventStreamReader, startEventStream } from "./event-stream";
import { closeServer, createLocalServer, listen } from "./http-server";
import { type LocalReactor, startReactor } from "./reactor";
import { dailyAt, everyMinutes, type ScheduledTask, type Scheduler, startOfNextMonth, startScheduler } from "./scheduler";
import { localAdminPassword, localSigningKey } from "./secrets";
import { warmUpDynamoDbLocal } from "./warm-up";
import { createLocalWorkflowEngine, type LocalWorkflowEngine } from "./workflow-engine";

const LocalEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The address the API listens on: loopback only unless told otherwise (0.0.0.0: every interface). */
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default(".data"),
  DYNAMODB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  ADMIN_EMAIL: EmailSchema.default("admin@gpuaas.local"),
  /** Unset: a random password, made up at the first start and kept in DATA_DIR/admin-password. */
  ADMIN_PASSWORD: PasswordSchema.optional(),
  /** Where domain events are POSTed (docs/architecture.md, "Events"); unset: no events locally. */
  WEBHOOK_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** How long DynamoDB Local is warmed up before the API answers (warm-up.ts); 0: not at all. */
  WARM_UP_MS: z.coerce.number().int().min(0).max(60_000).default(3000),
  /** Calls at DynamoDB Local at once, the reactions' and workflow's first (dynamodb-lanes.ts); 0: no limit. */
  DYNAMODB_LOCAL_IN_FLIGHT: z.coerce.number().int().min(0).max(1000).default(8),
});

/** Defaults that make sense on a laptop (simulated GPU-hours pass in seconds). */
const LOCAL_DEFAULTS = { SIMULATION_SECONDS_PER_HOUR: "5" };

/** stop() budget: requests in progress get this long to finish, then their connections are closed; the
 * workflow engine gets as long to abort its executions. DynamoDB Local has its own (dynamodb-local.ts). */
const REQUEST_GRACE_MS = 1000;
const ENGINE_GRACE_MS = 1000;

export interface LocalStack {
  url: string;
  core: Core;
  workflow: LocalWorkflowEngine;
  /** Jobs whose lifecycle was picked up again at start (left open by the previous run). */
  resumedJobs: number;
  admin: { email: string; password: string; created: boolean };
  dataDir: string;
  /** WEBHOOK_URL, when domain events are being POSTed to it. */
  webhookUrl?: string;
  stop(): Promise<void>;
}

/** How a client reaches an API bound to `host`: an any-address bind is reached on loopback. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startLocalStack(env: Record<string, string | undefined> = process.env): Promise<LocalStack> {
  const local = parseSettings(LocalEnv, env);
  const dataDir = resolve(local.DATA_DIR);
  mkdirSync(resolve(dataDir, "dynamodb"), { recursive: true });
  // Validated before Java starts; only the endpoint is filled in once DynamoDB Local is up.
  const settings = loadConfig({
    ...LOCAL_DEFAULTS,
    ...env,
    DYNAMODB_ENDPOINT: "http://127.0.0.1:8000",
    JWT_SIGNING_KEY: env.JWT_SIGNING_KEY || localSigningKey(dataDir),
  });

  // Check the API port before spending seconds on Java.
  if (local.PORT) await freePort(local.PORT).catch(() => Promise.reject(new PortInUseError(local.PORT, "the API", "PORT")));

  const dynamo: DynamoDbLocal = await startDynamoDbLocal({ dataDir: resolve(dataDir, "dynamodb"), port: local.DYNAMODB_PORT });
  let server: Server | undefined;
  let workflow: LocalWorkflowEngine | undefined;
  let scheduler: Scheduler | undefined;
  let events: EventStreamReader | undefined;
  let reactor: LocalReactor | undefined;
  try {
    const config = { ...settings, dynamoEndpoint: dynamo.endpoint };
    let core: Core | undefined;
    workflow = createLocalWorkflowEngine({ core: () => core! });
    core = createCore(config, { workflow });
    // One Java process serves every caller here: admission's handovers go before HTTP requests.
    if (local.DYNAMODB_LOCAL_IN_FLIGHT > 0) {
      gateClient(core.db.client, createLaneGate({ inFlight: local.DYNAMODB_LOCAL_IN_FLIGHT, maxWaitMs: config.outbound.requestTimeoutMs }));
    }
    // A cold JVM is several times slower for its first few thousand calls: warm it on a scratch table.
    await warmUpDynamoDbLocal({
      client: core.db.client,
      endpoint: dynamo.endpoint,
      region: config.region,
      budgetMs: local.WARM_UP_MS,
      log: core.log,
    });
    await ensureTable(core.db.client, config.tableName);
    // Reactions to every committed change (admission, dependents, executions, budget alerts), from the
    // table's stream as in AWS; started before anything writes.
    reactor = await startReactor(core, dynamo.endpoint);
    // Domain events from the table's stream to WEBHOOK_URL; started before anything writes events.
    events = local.WEBHOOK_URL ? await startWebhookEvents(core, dynamo.endpoint, local.WEBHOOK_URL) : undefined;
    const adminPassword = local.ADMIN_PASSWORD ?? localAdminPassword(dataDir).password;
    const admin = await ensureAdmin(core, { email: local.ADMIN_EMAIL, password: adminPassword });
    // Executions lived in the previous process: every job it left open continues from its stored status.
    const resumedJobs = await workflow.resumeOpenJobs();
    // The schedules AWS runs on EventBridge, on a local timer; each also runs once now to catch up.
    scheduler = startScheduler({ tasks: localSchedules(core), now: core.now, log: core.log, runAtStart: true });

    const app = createApp(core);
    server = createLocalServer((request, env) => inLane("api", () => app.fetch(request, env)));
    const port = await listen(server, local.PORT, local.HOST).catch((error: NodeJS.ErrnoException) =>
      Promise.reject(error.code === "EADDRINUSE" ? new PortInUseError(local.PORT, "the API", "PORT") : error),
    );
    const running = server;
    const engine = workflow;
    const schedules = scheduler;
    const reader = events;
    const reactions = reactor;
    return {
      url: `http://${urlHost(local.HOST)}:${port}`,
      core,
      workflow: engine,
      resumedJobs,
      admin: { email: local.ADMIN_EMAIL, password: adminPassword, created: admin.created },
      dataDir,
      webhookUrl: local.WEBHOOK_URL,
      // Bounded at every step: whatever is in flight (keep-alive connections, a request waiting on a
      // stalled DynamoDB Local), stop() ends within seconds.
      stop: async () => {
        await closeServer(running, REQUEST_GRACE_MS);
        await Promise.all([
          waitAtMost(schedules.stop(), ENGINE_GRACE_MS),
          waitAtMost(engine.shutdown(), ENGINE_GRACE_MS),
          reader?.stop(),
          reactions.stop(),
        ]);
        await dynamo.stop();
      },
    };
  } catch (error) {
    server?.close();
    await scheduler?.stop();
    await events?.stop();
    await reactor?.stop();
    await workflow?.shutdown();
    await dynamo.stop();
    throw error;
  }
}

/** The scheduled tasks of infra/schedules.ts (same UTC times), run against the local stack. */
export function localSchedules(core: Core): ScheduledTask[] {
  return [
    { name: "monthly quota reset", nextRun: startOfNextMonth, run: () => resetQuotas(core) },
    { name: "daily cost rollup", nextRun: dailyAt(0, 5), run: () => rollupPreviousDay(core) },
    { name: "reconciler", nextRun: everyMinutes(5), run: () => reconcile(core) },
  ];
}

/** Reads the table's stream and POSTs each domain event to `url` (bounded attempts, then dropped). */
async function startWebhookEvents(core: Core, endpoint: string, url: string): Promise<EventStreamReader> {
  const streamArn = await tableStreamArn(core.db.client, core.db.table);
  if (!streamArn) throw new Error(`Table ${core.db.table} has no stream`);
  return startEventStream({
    endpoint,
    region: core.config.region,
    streamArn,
    outbound: core.config.outbound,
    publisher: (signal) => createWebhookPublisher({ url, signal }),
    log: core.log.child({ component: "events" }),
  });
}

/** Waits for `promise` to settle, however it settles, for `ms` at most. */
function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const settled = promise.then(
    () => undefined,
    () => undefined,
  );
  return Promise.race([settled, deadline]).finally(() => clearTimeout(timer));
}
