/** The seeded workload of the replay benchmark (bench/replay.ts): Poisson arrivals, GPU counts from
 * a 1/2/4/8 mix, heavy-tailed (lognormal) durations, three priorities and a handful of users. The
 * arrival rate is set from the drawn jobs themselves so that the offered load (GPU-hours asked for
 * per hour ÷ pool GPUs) is `load`. Times are simulated hours. Same options, same trace. */
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
}

/** The mixes: [value, probability]. */
export const GPU_MIX: [number, number][] = [[1, 0.5], [2, 0.25], [4, 0.15], [8, 0.1]];
export const PRIORITY_MIX: [Priority, number][] = [["high", 0.2], ["medium", 0.6], ["low", 0.2]];
/** Lognormal durations: median 3 h, σ = 1.2 (mean ≈ 6 h, p99 ≈ 50 h), clipped to [0.05, 200] h. */
export const DURATION = { median: 3, sigma: 1.2, min: 0.05, max: 200 };

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
  const drawn = Array.from({ length: o.jobs }, () => {
    const gpus = Math.min(pick(GPU_MIX, rand()), o.poolGpus);
    const raw = DURATION.median * Math.exp(DURATION.sigma * normal(rand));
    const duration = thousandth(Math.min(DURATION.max, Math.max(DURATION.min, raw)));
    return { gpus, duration, priority: pick(PRIORITY_MIX, rand()), user: Math.floor(rand() * o.users) };
  });
  // Poisson arrivals at the rate that makes the offered load `load`: λ · E[gpus · duration] = load · pool.
  const meanWork = drawn.reduce((s, j) => s + j.gpus * j.duration, 0) / Math.max(1, drawn.length);
  const rate = (o.load * o.poolGpus) / meanWork;
  let t = 0;
  return drawn.map((j, i) => {
    if (i > 0) t += -Math.log(1 - rand()) / rate;
    return { arrival: t, ...j };
  });
}
