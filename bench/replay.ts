/** `npm run bench:replay`: a workload replay. Generates a seeded trace (bench/replay-trace.ts),
 * starts `npm start` (bench/stack.ts) with one V100 pool, and submits every job at its arrival time
 * (one timer per job, each request independent of the others) as one of 8 users, with auto-approve
 * on and no failures, so admission alone decides when jobs start. It records each submission's
 * latency and status and the first expected start each job is shown, waits until every job has
 * ended, reads every job's createdAt / startedAt / finishedAt, and compares the system with ideal
 * schedules of the same arrivals (bench/replay-ideal.ts): waits, utilisation, makespan and how often
 * the expected start was right. Prints one table and writes the method and the table into
 * docs/performance.md between its `bench:replay` markers. Leaves no process behind: the stack is
 * stopped in `finally`, and bench/stack.ts kills it (and it its Java) on any other exit.
 * Run: npm run bench:replay   (REPLAY_SEED, REPLAY_JOBS, REPLAY_POOL_GPUS, REPLAY_LOAD, REPLAY_SWEEP,
 *                              REPLAY_SECONDS_PER_HOUR, REPLAY_TIMEOUT_S; REPLAY_DUMP=<file> also
 *                              writes the trace and every job's observations there as JSON) */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { idealPredictions, isHit, type Schedule, type SimJob, type Summary, simulate, summarize } from "./replay-ideal";
import { idleWhileFitting, simulatePlanner } from "./replay-planner";
import { DURATION, generateTrace, SWEEP_SPACING_H, type TraceJob } from "./replay-trace";
import { type BenchStack, startStack } from "./stack";
import { quantile } from "./stats";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const doc = join(root, "docs/performance.md");
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const SEED = env("REPLAY_SEED", 1);
const JOBS = env("REPLAY_JOBS", 1000);
const POOL = env("REPLAY_POOL_GPUS", 48);
const LOAD = env("REPLAY_LOAD", 0.9);
const USERS = 8;
const SWEEP = env("REPLAY_SWEEP", 4);
/** Wall-clock seconds per simulated hour. */
const SPH = env("REPLAY_SECONDS_PER_HOUR", 0.1);
/** How often a job is read until it leaves PENDING, and the open jobs are counted at the end. */
const POLL_MS = 100;
const COUNT_MS = 1000;
const PASSWORD = "replay password 1";

// ---- HTTP: fetch with a timeout; a reply is { status, body }, no reply throws (a network error).

interface Reply {
  status: number;
  body: any;
}

async function api(
  url: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed };
}

function expect(reply: Reply, status: number, what: string): any {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OPEN = ["PENDING", "APPROVED", "RUNNING"] as const;

/** An account's access token, logged in again before the 15-minute token runs out. */
function session(url: string, email: string, password: string) {
  let token: Promise<string> | undefined;
  let at = 0;
  return () => {
    if (!token || Date.now() - at > 10 * 60_000) {
      at = Date.now();
      token = api(url, "POST", "/api/v1/auth/login", undefined, { email, password }).then(
        (r) => expect(r, 200, `login ${email}`).accessToken,
      );
    }
    return token;
  };
}

// ---- The replay: what was observed of each job.

interface Observed {
  /** POST outcome: its HTTP status, or undefined for a network error (then `error`). */
  status?: number;
  /** The error code of a refusal. */
  code?: string;
  latencyMs?: number;
  error?: string;
  id?: string;
  /** The first APPROVED or RUNNING reply: "expected" with its expectedStartAt, "running", or "none". */
  prediction?: { kind: "expected"; atMs: number } | { kind: "running" } | { kind: "none"; why: string };
  /** The job as read at the end. */
  final?: {
    status: string;
    createdAt: string;
    approvedAt?: string;
    startedAt?: string;
    finishedAt?: string;
    estimatedHours: number;
    gpuCount: number;
    priority: SimJob["priority"];
  };
}

async function setUp(stack: BenchStack) {
  const admin = session(stack.url, stack.admin.email, stack.admin.password);
  const body = {
    name: "replay-v100",
    provider: "aws",
    region: "us-east-1",
    gpuType: "V100",
    totalGpus: POOL,
    totalCpu: 4096,
    totalRamGb: 65536,
  };
  expect(await api(stack.url, "POST", "/api/v1/admin/clusters", await admin(), body), 201, "create pool");
  const users: (() => Promise<string>)[] = [];
  for (let u = 0; u < USERS; u++) {
    const email = `replay-${u}@example.com`;
    expect(
      await api(stack.url, "POST", "/api/v1/auth/register", undefined, { email, password: PASSWORD, fullName: `Replay ${u}` }),
      201,
      "register",
    );
    const user = session(stack.url, email, PASSWORD);
    await user();
    users.push(user);
  }
  return { admin, users };
}

/** The first reply that is not PENDING decides what the job was told about its start. */
function predictionOf(job: any): Observed["prediction"] | undefined {
  if (job.status === "PENDING") return undefined;
  if (job.status === "RUNNING") return { kind: "running" };
  if (job.status !== "APPROVED") return { kind: "none", why: `first seen ${job.status}` };
  const at = job.waiting?.expectedStartAt;
  return at
    ? { kind: "expected", atMs: Date.parse(at) }
    : { kind: "none", why: `APPROVED, ${job.waiting?.reason ?? "no waiting"} without expectedStartAt` };
}

async function watch(url: string, token: () => Promise<string>, o: Observed, first: any, deadline: number) {
  o.prediction = predictionOf(first);
  while (!o.prediction) {
    if (Date.now() > deadline) {
      o.prediction = { kind: "none", why: "still PENDING at the timeout" };
      break;
    }
    await sleep(POLL_MS);
    const reply = await api(url, "GET", `/api/v1/jobs/${o.id}`, await token()).catch(() => undefined);
    if (reply?.status === 200) o.prediction = predictionOf(reply.body);
  }
}

/** Submits every job at its arrival; resolves when every POST has answered and every job was seen past PENDING. */
async function replay(stack: BenchStack, trace: TraceJob[], users: (() => Promise<string>)[], runId: string, deadline: number) {
  const observed: Observed[] = trace.map(() => ({}));
  const watches: Promise<void>[] = [];
  let maxLagMs = 0;
  const t0 = performance.now();
  const submit = async (i: number) => {
    const job = trace[i]!;
    const o = observed[i]!;
    maxLagMs = Math.max(maxLagMs, performance.now() - t0 - job.arrival * SPH * 1000);
    const token = users[job.user]!;
    const body = {
      name: `replay-${i}`,
      image: "img:1",
      command: "run",
      gpuType: "V100",
      gpuCount: job.gpus,
      estimatedHours: job.duration,
      priority: job.priority,
    };
    const sent = performance.now();
    try {
      const reply = await api(stack.url, "POST", "/api/v1/jobs", await token(), body, { "idempotency-key": `${runId}-${i}` });
      o.latencyMs = performance.now() - sent;
      o.status = reply.status;
      o.code = reply.body?.error?.code;
      if (reply.status === 201) {
        o.id = reply.body.id;
        watches.push(watch(stack.url, token, o, reply.body, deadline));
      }
    } catch (error) {
      o.error = String((error as Error).cause ?? error);
    }
  };
  await Promise.all(trace.map((job, i) => new Promise<void>((done) => setTimeout(() => submit(i).then(done), job.arrival * SPH * 1000))));
  await Promise.all(watches);
  return { observed, maxLagMs };
}

/** A GET as admin that must answer 200, tried a few times over a transient 5xx or network error. */
async function read(stack: BenchStack, token: string, path: string): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const reply = await api(stack.url, "GET", path, token).catch((error) => ({ status: 0, body: String(error) }));
    if (reply.status === 200 || attempt === 5 || (reply.status >= 400 && reply.status < 500)) return expect(reply, 200, `GET ${path}`);
    await sleep(1000);
  }
}

/** How many jobs are still open (admin list, every page of each open status). */
async function openJobs(stack: BenchStack, token: string): Promise<number> {
  let open = 0;
  for (const status of OPEN) {
    let cursor: string | undefined;
    do {
      const page = await read(
        stack,
        token,
        `/api/v1/admin/jobs?status=${status}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      open += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return open;
}

/** Reads every accepted job once (as admin), a few at a time. */
async function readAll(stack: BenchStack, token: string, observed: Observed[]) {
  const todo = observed.filter((o) => o.id);
  const worker = async () => {
    for (let o = todo.pop(); o; o = todo.pop()) o.final = await read(stack, token, `/api/v1/jobs/${o.id}`);
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

// ---- Analysis: the system's schedule and the ideal ones, in simulated hours from the first arrival.

interface Row {
  summary: Summary;
  hits?: string;
  /** GPU-hours idle while a waiting job would have fitted (replay-planner.ts). */
  idleFit: number;
}

function analyse(observed: Observed[]) {
  const jobs = observed.filter((o) => o.final);
  const t0 = Math.min(...jobs.map((o) => Date.parse(o.final!.createdAt)));
  const hours = (iso: string | undefined) => (iso ? (Date.parse(iso) - t0) / (SPH * 1000) : NaN);
  const sim: SimJob[] = jobs.map((o) => ({
    arrival: hours(o.final!.createdAt),
    gpus: o.final!.gpuCount,
    duration: o.final!.estimatedHours,
    priority: o.final!.priority,
  }));
  const system: Schedule = { start: jobs.map((o) => hours(o.final!.startedAt)), end: jobs.map((o) => hours(o.final!.finishedAt)) };
  const fifo = simulate(sim, POOL, "fifo");
  const easy = idealPredictions(sim, POOL);
  const planner = simulatePlanner(sim, POOL);
  const idle = (s: Schedule) => idleWhileFitting(sim, s, POOL);

  // The system's predictions: an expected start, "now" for a job first seen RUNNING, none otherwise (a miss).
  const started = jobs.map((_, i) => i).filter((i) => Number.isFinite(system.start[i]));
  const predicted = (i: number) => {
    const p = jobs[i]!.prediction;
    return p?.kind === "expected" ? (p.atMs - t0) / (SPH * 1000) : p?.kind === "running" ? system.start[i]! : NaN;
  };
  const systemHits = started.filter((i) => isHit(predicted(i), system.start[i]!, sim[i]!.arrival)).length;
  const withoutPrediction = started.filter((i) => !Number.isFinite(predicted(i))).length;
  const idealHits = sim.filter((j, i) => isHit(easy.predicted[i]!, easy.schedule.start[i]!, j.arrival)).length;
  const share = (hits: number, of: number, extra = "") => `${((100 * hits) / of).toFixed(1)} % (${hits}/${of}${extra})`;

  const noPrediction = new Map<string, number>();
  for (const o of jobs)
    if (o.prediction?.kind === "none") noPrediction.set(o.prediction.why, (noPrediction.get(o.prediction.why) ?? 0) + 1);
  return {
    system: {
      summary: summarize(sim, system, POOL),
      hits: share(systemHits, started.length, `; ${withoutPrediction} without one`),
      idleFit: idle(system),
    } as Row,
    fifo: { summary: summarize(sim, fifo, POOL), idleFit: idle(fifo) } as Row,
    easy: { summary: summarize(sim, easy.schedule, POOL), hits: share(idealHits, sim.length), idleFit: idle(easy.schedule) } as Row,
    planner: { summary: summarize(sim, planner, POOL), idleFit: idle(planner) } as Row,
    accepted: jobs.length,
    unstarted: jobs.length - started.length,
    unfinished: jobs.filter((o) => !o.final!.finishedAt).length,
    statuses: countBy(jobs.map((o) => o.final!.status)),
    noPrediction,
  };
}

const countBy = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");

function tableRows(a: ReturnType<typeof analyse>, observed: Observed[]) {
  const replies = observed.filter((o) => o.status !== undefined);
  const latencies = replies.map((o) => o.latencyMs!);
  const refused = observed.filter((o) => o.status !== 201).length;
  const row = (name: string, r: Row, system: boolean): Record<string, string> => ({
    schedule: name,
    "mean wait h": fmt(r.summary.meanWait),
    "p95 wait h": fmt(r.summary.p95Wait),
    utilisation: `${fmt(100 * r.summary.utilisation, 1)} %`,
    "makespan h": fmt(r.summary.makespan, 1),
    "high mean wait h": fmt(r.summary.highMeanWait),
    "GPU-h idle while a job fit": fmt(r.idleFit, 0),
    refused: system ? String(refused) : "",
    "5xx": system ? String(replies.filter((o) => o.status! >= 500).length) : "",
    "network errors": system ? String(observed.filter((o) => o.error).length) : "",
    "POST p50/p99 ms": system ? `${fmt(quantile(latencies, 0.5), 1)} / ${fmt(quantile(latencies, 0.99), 1)}` : "",
    "expected-start hits": r.hits ?? "",
  });
  const ratio = (f: (s: Summary) => number) => fmt(f(a.system.summary) / f(a.easy.summary));
  return [
    row("system", a.system, true),
    row("ideal FIFO", a.fifo, false),
    row("ideal priority+EASY", a.easy, false),
    row("ideal, the system's planner", a.planner, false),
    {
      schedule: "system ÷ ideal priority+EASY",
      "mean wait h": ratio((s) => s.meanWait),
      "p95 wait h": ratio((s) => s.p95Wait),
      utilisation: ratio((s) => s.utilisation),
      "makespan h": "",
      "high mean wait h": ratio((s) => s.highMeanWait),
      "GPU-h idle while a job fit": "",
      refused: "",
      "5xx": "",
      "network errors": "",
      "POST p50/p99 ms": "",
      "expected-start hits": "",
    },
  ];
}

const markdown = (rows: Record<string, string>[]) => {
  const cols = Object.keys(rows[0] ?? {});
  return [
    `| ${cols.join(" | ")} |`,
    `| ${cols.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? "").replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
};

function writeDoc(started: Date, rows: Record<string, string>[], notes: string) {
  const section = `<!-- bench:replay -->
Written by \`npm run bench:replay\` (\`bench/replay.ts\`); edit outside these markers.

**Method.** A seeded trace (\`bench/replay-trace.ts\`, mulberry32; seed ${SEED}): ${JOBS} jobs in
sweeps (a Poisson process of sweeps, each a geometric number of jobs, mean ${SWEEP}, from one user with one
GPU count and priority, ${SWEEP_SPACING_H} h apart; mean 1 is plain Poisson arrivals), 1/2/4/8 GPUs (50/25/15/10 %), lognormal durations (median ${DURATION.median} h, σ ${DURATION.sigma}, clipped to
[${DURATION.min}, ${DURATION.max}] h), priorities 20 % high / 60 % medium / 20 % low, 8 users; the arrival rate makes the
offered load ${LOAD} of a ${POOL}-GPU pool. \`npm start\` runs with one ${POOL}-GPU V100 pool,
\`SIMULATION_SECONDS_PER_HOUR=${SPH}\` (so one simulated hour is ${SPH * 1000} ms of wall clock),
auto-approve for every job and no simulated failures, so admission alone decides when jobs start.
Each job is submitted at its arrival time by its own timer (\`POST /api/v1/jobs\` with a unique
\`Idempotency-Key\`, never waiting for another submission). *Refused* counts every submission that
did not get a 201 (of which *5xx* answered 5xx and *network errors* got no answer). Each accepted job
is read every ${POLL_MS} ms until it leaves PENDING; the first APPROVED or RUNNING reply is its
prediction: \`waiting.expectedStartAt\` when APPROVED (none when absent: a miss), "now" (its
\`startedAt\`) when RUNNING. At the end every job is read once for \`createdAt\`, \`startedAt\`,
\`finishedAt\`. Times are simulated hours from the first \`createdAt\`; wait = \`startedAt −
createdAt\`; utilisation = GPU-hours held (gpus × (finishedAt − startedAt)) ÷ (pool GPUs × makespan),
makespan = first arrival to last end. The ideal schedules (\`bench/replay-ideal.ts\`) take the same
arrivals as the system recorded them (its \`createdAt\`s) and the estimates as durations (a simulated
run takes exactly its estimate), and decide instantly at every arrival and end: *FIFO* in strict
arrival order without backfill; *priority+EASY* by priority (high, medium, low) then age, with EASY
backfill (the head gets a reservation at its earliest start; a job behind it starts now if it fits
now and either ends by that reservation or uses only GPUs the head will not need then); *the
system's planner* is core's own \`planPool\` (every waiting job reserved in order, conservative
backfill) called the same way (\`bench/replay-planner.ts\`), so the system's row against it is what
the delays of the real path cost, and it against priority+EASY what the policy costs. *GPU-h idle
while a job fit*: GPU-hours (sampled every 0.1 h) during which free GPUs could have held a waiting
job. The *ideal
predictor* replays priority+EASY at each arrival on only the jobs known then (running ones with
their remaining time, waiting ones, the new job; no future arrivals) and is judged against the ideal
priority+EASY schedule. **Hit rule**: a prediction is a hit when it is within 10 % of the job's
actual wait of its actual start, or, for a job that waited less than 0.5 simulated hours, within
0.5 h; hit shares are over the jobs that started.

Run of ${started.toISOString().slice(0, 16)} UTC (${cpus().length} vCPU, Node ${process.version}; ${notes}):

${markdown(rows)}
<!-- /bench:replay -->`;
  const text = readFileSync(doc, "utf8");
  const begin = text.indexOf("<!-- bench:replay -->");
  const end = text.indexOf("<!-- /bench:replay -->");
  const next =
    begin >= 0 && end > begin
      ? text.slice(0, begin) + section + text.slice(end + "<!-- /bench:replay -->".length)
      : `${text.trimEnd()}\n\n## Workload replay (\`npm run bench:replay\`)\n\n${section}\n`;
  writeFileSync(doc, next);
}

// ---- Main.

const started = new Date();
const trace = generateTrace({ seed: SEED, jobs: JOBS, poolGpus: POOL, load: LOAD, users: USERS, sweep: SWEEP });
const traceMakespan = summarize(trace, simulate(trace, POOL, "fifo"), POOL).makespan;
const TIMEOUT_S = env("REPLAY_TIMEOUT_S", traceMakespan * SPH * 3 + 120);
console.log(
  `bench:replay — ${JOBS} jobs, seed ${SEED}, ${POOL} GPUs, load ${LOAD}, ${SPH} s per simulated hour; ` +
    `arrivals over ${(trace.at(-1)!.arrival * SPH).toFixed(1)} s, ideal FIFO makespan ${(traceMakespan * SPH).toFixed(1)} s, timeout ${TIMEOUT_S.toFixed(0)} s`,
);

const stack = await startStack({
  SIMULATION_SECONDS_PER_HOUR: String(SPH),
  AUTO_APPROVE_MAX_GPU_HOURS: "100000",
  // The brief's 10,000,000 is above the config's maximum (1,000,000), which stops the server at start.
  DEFAULT_MONTHLY_GPU_HOURS: "1000000",
  SIMULATION_FAILURE_RATE: "0",
  AWS_REQUEST_TIMEOUT_MS: "10000",
});
let exitCode = 0;
try {
  const { admin, users } = await setUp(stack);
  const deadline = Date.now() + TIMEOUT_S * 1000;
  const { observed, maxLagMs } = await replay(stack, trace, users, `replay-${SEED}-${Date.now()}`, deadline);
  let open = Infinity;
  while (Date.now() < deadline) {
    open = await openJobs(stack, await admin());
    if (open === 0) break;
    await sleep(COUNT_MS);
  }
  if (open > 0) console.warn(`timed out after ${TIMEOUT_S.toFixed(0)} s with ${open} jobs still open; reporting what ended`);
  await readAll(stack, await admin(), observed);

  if (process.env.REPLAY_DUMP) writeFileSync(process.env.REPLAY_DUMP, JSON.stringify({ trace, observed }));
  const a = analyse(observed);
  const rows = tableRows(a, observed);
  const statuses = [...a.statuses].map(([s, n]) => `${n} ${s}`).join(", ");
  const notes = `${a.accepted} of ${JOBS} accepted: ${statuses}; ${a.unstarted} never started; latest submission ${maxLagMs.toFixed(0)} ms after its time`;
  console.log(`\n${notes}`);
  if (a.noPrediction.size) console.log(`without a prediction: ${[...a.noPrediction].map(([why, n]) => `${n} × ${why}`).join("; ")}`);
  const refusals = countBy(
    observed.filter((o) => o.status !== undefined && o.status !== 201).map((o) => `${o.status} ${o.code ?? ""}`.trim()),
  );
  if (refusals.size) console.log(`refused: ${[...refusals].map(([s, n]) => `${n} × ${s}`).join(", ")}`);
  console.table(rows);
  writeDoc(started, rows, notes);
  console.log(`Method and numbers written to ${doc}`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await stack.stop();
}
process.exit(exitCode);
