/** `@gpuaas/core/reactions`: what follows a committed change (SPEC §10) — one call per batch of the
 * table's stream records, run by the stream consumer in AWS and the local reactor. */
export { react } from "../reactions/react";
