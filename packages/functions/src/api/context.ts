/** The Hono environment shared by every route: the request's core handle (its logger carries the
 * request id) and the authenticated actor. */
import type { Actor } from "@gpuaas/core/auth/token";
import type { Core } from "@gpuaas/core/core";

export interface AppEnv {
  Variables: { core: Core; actor: Actor; requestId: string };
}
