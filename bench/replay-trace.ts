/** The seeded workload of the replay benchmark (bench/replay.ts): bursty Poisson arrivals, GPU counts
 * from a 1/2/4/8 mix, heavy-tailed (lognormal) durations, three priorities and a handful of users.
 * Jobs come in sweeps, as on real GPU clusters (a user submits a hyper-parameter sweep at once):
 * sweeps arrive as a Poisson process, each of a geometric number of jobs (mean `sweep`) from one
 * user with one GPU count and priority, submitted `SWEEP_SPACING_H` apart, each with its own
 * duration. The sweep rate is set from the drawn jobs themselves so that the offered load
 * (GPU-hours asked for per hour ÷ pool GPUs) is `load`. Times are simulated hours. Same options,
 * same trace. */
import type { Priority, SimJob } from "./replay-ideal";

export interface TraceJob extends SimJob {
  /** 0 … users − 1: whose token submits it. */
  user: number;
}

export interface TraceOptions {
  seed: number;
  jobs: number;
  poolGpus: number;
  /** Offered load as a share of the pool, e.g. 0.9. */
  load: number;
  users: number;
  /** Mean jobs per sweep (1: plain Poisson arrivals, one job at a time). */
  sweep: number;
}

/** Between two submissions of one sweep: 0.05 simulated hours (5 ms at 0.1 s per hour). */
export const SWEEP_SPACING_H = 0.05;

/** The mixes: [value, probability]. */
export const GPU_MIX: [number, number][] = [
  [1, 0.5],
  [2, 0.25],
  [4, 0.15],
  [8, 0.1],
];
export const PRIORITY_MIX: [Priority, number][] = [
  ["high", 0.2],
  ["medium", 0.6],
  ["low", 0.2],
];
/** Lognormal durations: median 8 h, σ = 1.8 (mean ≈ 35 h after clipping, p99 ≈ 530 h), clipped to
 * [0.05, 720] h (720 h is the API's maximum estimate). Chosen to match the shape of the public GPU-cluster trace issue 18 describes
 * (about 1,000 jobs over 85 days keeping 43 of 48 GPUs busy, so a mean of ≈ 35 GPU-hours per GPU
 * asked for): at load 0.9 on 48 GPUs, 1,000 jobs arrive over ≈ 85 simulated days, ≈ 4.9
 * submissions per second at 0.1 s per simulated hour. */
export const DURATION = { median: 8, sigma: 1.8, min: 0.05, max: 720 };

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(mix: [T, number][], u: number): T {
  let acc = 0;
  for (const [value, p] of mix) {
    acc += p;
    if (u < acc) return value;
  }
  return mix[mix.length - 1]![0];
}

/** Standard normal by Box–Muller (1 − u keeps the logarithm finite). */
const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** Rounded to the thousandth of an hour the API keeps, so the system runs exactly this long. */
const thousandth = (h: number) => Math.round(h * 1000) / 1000;

export function generateTrace(o: TraceOptions): TraceJob[] {
  const rand = mulberry32(o.seed);
  const drawn: Omit<TraceJob, "arrival">[][] = [];
  for (let n = 0; n < o.jobs; ) {
    // Geometric size ≥ 1 with mean `sweep`: continue with probability 1 − 1/sweep.
    let size = 1;
    while (rand() < 1 - 1 / o.sweep) size++;
    size = Math.min(size, o.jobs - n);
    const gpus = Math.min(pick(GPU_MIX, rand()), o.poolGpus);
    const priority = pick(PRIORITY_MIX, rand());
    const user = Math.floor(rand() * o.users);
    drawn.push(
      Array.from({ length: size }, () => {
        const raw = DURATION.median * Math.exp(DURATION.sigma * normal(rand));
        return { gpus, duration: thousandth(Math.min(DURATION.max, Math.max(DURATION.min, raw))), priority, user };
      }),
    );
    n += size;
  }
  // Poisson sweeps at the rate that makes the offered load `load`: λ · E[sweep work] = load · pool.
  const work = drawn.flat().reduce((s, j) => s + j.gpus * j.duration, 0);
  const rate = (o.load * o.poolGpus * drawn.length) / Math.max(1e-9, work);
  let t = 0;
  return drawn.flatMap((sweep, k) => {
    if (k > 0) t += -Math.log(1 - rand()) / rate;
    return sweep.map((j, i) => ({ arrival: thousandth(t + i * SWEEP_SPACING_H), ...j }));
  });
}
