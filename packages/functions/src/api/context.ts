/** The Hono environment shared by every route: the request's core handle (its logger carries the
 * request id) and the authenticated actor. */

import type { Core } from "@gpuaas/core";
import type { Actor } from "@gpuaas/core/api";

export interface AppEnv {
  Variables: { core: Core; actor: Actor; requestId: string; request: NonNullable<Actor["request"]> };
}
