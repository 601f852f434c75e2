/** `@gpuaas/core/aws`: how core's AWS clients are built (timeouts, retries, the mapping of an
 * unavailable service to 503) and the one table's lifecycle (created locally, its stream's ARN). */
export { type MiddlewareClient, mapUnavailableErrors, type OutboundSettings, outboundClientConfig } from "../aws/outbound";
export { pingTable } from "../db/client";
export { ensureTable, tableStreamArn } from "../db/table";
