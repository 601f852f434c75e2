/** The Hono environment shared by every route: the core handle and the authenticated actor. */
import type { Actor } from "@gpuaas/core/auth/token";
import type { Core } from "@gpuaas/core/core";

export interface AppEnv {
  Variables: { core: Core; actor: Actor };
}
