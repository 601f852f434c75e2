/** The GPU catalog: GPU type × provider → USD per GPU-hour. Versioned in code, overridable by config. */
import * as z from "zod";
import { formatUsd, type Micros, usdToMicros } from "../util/money";

export const GPU_TYPES = ["T4", "L4", "A10G", "V100", "A100", "H100"] as const;
export type GpuType = (typeof GPU_TYPES)[number];

export const PROVIDERS = ["aws", "gcp", "azure", "lambda", "coreweave", "onprem"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const CATALOG_VERSION = "2026-11-01";

/** On-demand list prices per GPU-hour (single-GPU share of the usual instance), USD. */
const BASE_PRICES: Record<GpuType, Partial<Record<Provider, string>>> = {
  T4: { aws: "0.526", gcp: "0.35", azure: "0.526", onprem: "0.12" },
  L4: { aws: "0.805", gcp: "0.71", onprem: "0.20" },
  A10G: { aws: "1.006", lambda: "0.75", onprem: "0.30" },
  V100: { aws: "3.06", gcp: "2.48", azure: "3.06", lambda: "0.55", onprem: "0.45" },
  A100: { aws: "4.10", gcp: "3.67", azure: "3.40", lambda: "1.29", coreweave: "2.21", onprem: "0.90" },
  H100: { aws: "6.88", gcp: "11.06", azure: "6.98", lambda: "2.49", coreweave: "4.76", onprem: "1.60" },
};

/** The highest price per GPU-hour an override may set: money stays exact up to it (costMicros). */
export const MAX_PRICE_PER_GPU_HOUR_USD = 100;

const USD = /^\d{1,3}(\.\d{1,6})?$/;

/** Shape of the `GPU_CATALOG_OVERRIDES` config value: {"A100":{"aws":"3.90"}}, each price 0 to 100 USD. */
export const CatalogOverridesSchema = z.partialRecord(
  z.enum(GPU_TYPES),
  z.partialRecord(
    z.enum(PROVIDERS),
    z
      .string()
      .regex(USD, "must be a USD amount like 2.50")
      .refine(
        (usd) => !USD.test(usd) || usdToMicros(usd) <= MAX_PRICE_PER_GPU_HOUR_USD * 1_000_000,
        `must be at most ${MAX_PRICE_PER_GPU_HOUR_USD} USD per GPU-hour`,
      ),
  ),
);
export type CatalogOverrides = z.infer<typeof CatalogOverridesSchema>;

export interface CatalogEntry {
  gpuType: GpuType;
  provider: Provider;
  pricePerGpuHourMicros: Micros;
}

export interface Catalog {
  version: string;
  entries: CatalogEntry[];
  /** Price of one GPU-hour of `gpuType` at `provider`, or undefined when not offered there. */
  price(gpuType: GpuType, provider: Provider): Micros | undefined;
  /** The cheapest offering of `gpuType` (used to estimate jobs that leave the provider open). */
  cheapest(gpuType: GpuType): CatalogEntry | undefined;
}

export function createCatalog(overrides: CatalogOverrides = {}): Catalog {
  const entries: CatalogEntry[] = GPU_TYPES.flatMap((gpuType) => {
    const prices = { ...BASE_PRICES[gpuType], ...overrides[gpuType] };
    return PROVIDERS.flatMap((provider) => {
      const usd = prices[provider];
      return usd === undefined ? [] : [{ gpuType, provider, pricePerGpuHourMicros: usdToMicros(usd) }];
    });
  });
  const byKey = new Map(entries.map((e) => [`${e.gpuType}/${e.provider}`, e]));
  return {
    version: Object.keys(overrides).length ? `${CATALOG_VERSION}+overrides` : CATALOG_VERSION,
    entries,
    price: (gpuType, provider) => byKey.get(`${gpuType}/${provider}`)?.pricePerGpuHourMicros,
    cheapest: (gpuType) =>
      entries
        .filter((e) => e.gpuType === gpuType)
        .reduce<CatalogEntry | undefined>(
          (best, e) => (!best || e.pricePerGpuHourMicros < best.pricePerGpuHourMicros ? e : best),
          undefined,
        ),
  };
}

/** The catalog as API clients see it. */
export const catalogView = (catalog: Catalog) => ({
  version: catalog.version,
  items: catalog.entries.map((e) => ({
    gpuType: e.gpuType,
    provider: e.provider,
    pricePerGpuHourUsd: formatUsd(e.pricePerGpuHourMicros),
  })),
});
