/** `@gpuaas/core`: what every adapter stands on — the Core handle and its configuration, the log,
 * the domain errors (mapped to HTTP once, by the API) and the GPU catalog. The package's other entry
 * points, one per kind of adapter: `/api` (the HTTP API's use cases), `/workflow` (the job
 * lifecycle's steps and definition), `/reactions`, `/events`, `/schedules` and `/aws` (the clients'
 * settings and the table). Nothing inside core imports these surfaces (test/layers.unit.test.ts). */
export { generateSigningKey, publicHalf } from "../auth/signing-key";
export { catalogView, GPU_TYPES, type GpuType, PROVIDERS } from "../catalog/catalog";
export { ConfigError, type CoreConfig, loadConfig, loadOutboundConfig, parseSettings } from "../config/config";
export { type Core, createCore } from "../core";
export * from "../errors";
export { createLogger, type Log, type LogLevel } from "../log";
