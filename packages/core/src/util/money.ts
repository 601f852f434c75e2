/** Exact money: integer micro-dollars inside, decimal strings with at least 2 places outside. */

export type Micros = number;

const MICROS_PER_USD = 1_000_000;

/** "3.06" / "0.000125" → micro-dollars. Only used for trusted, code-defined prices. */
export function usdToMicros(usd: string): Micros {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(usd);
  if (!match) throw new Error(`Not a USD amount with at most 6 decimals: ${usd}`);
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? "").padEnd(6, "0"));
  return whole * MICROS_PER_USD + fraction;
}

/** Micro-dollars → "12.50", "0.000125" (at least 2 decimals, trailing zeros beyond that trimmed). */
export function formatUsd(micros: Micros): string {
  if (!Number.isSafeInteger(micros)) throw new Error(`Not an integer amount: ${micros}`);
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  const fraction = String(abs % MICROS_PER_USD).padStart(6, "0");
  const trimmed = fraction.replace(/0+$/, "").padEnd(2, "0");
  return `${sign}${whole}.${trimmed}`;
}

/** Cost of `gpuCount` GPUs for `milliHours` at `pricePerGpuHour` micros, rounded half-up to a micro. */
export function costMicros(pricePerGpuHour: Micros, gpuCount: number, milliHours: number): Micros {
  // price ≤ 1e8 micros × 64 GPUs × 7.2e5 milli-hours stays below 2^53, so this is exact.
  const numerator = pricePerGpuHour * gpuCount * milliHours;
  return Math.floor((numerator + 500) / 1000);
}
