/** Request plumbing: request id and core, bearer authentication, admin guard and JSON body reading. */
import { randomUUID } from "node:crypto";
import { type Core, ForbiddenError, UnauthorizedError, ValidationError } from "@gpuaas/core";
import { authenticate, verifyToken } from "@gpuaas/core/api";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";

const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (word characters, `.:-`, at most 128), else undefined. */
export function clientRequestId(sent: string | undefined): string | undefined {
  return sent && CLIENT_REQUEST_ID.test(sent) ? sent : undefined;
}

/** The request's own id: API Gateway's, else (the local server) a new one. */
function serverRequestId(c: Context): string {
  const gateway = (c.env as { event?: { requestContext?: { requestId?: unknown } } } | undefined)?.event?.requestContext?.requestId;
  return typeof gateway === "string" && gateway ? gateway : randomUUID();
}

/**
 * Gives every request its ids and a core whose log lines carry them: `requestId`, API Gateway's
 * (or the local server's own), and beside it `clientRequestId`, the caller's X-Request-Id when
 * sane. The answer echoes the caller's id when it sent one, else ours; audit entries keep both.
 */
export const requestContext = (core: Core) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const own = serverRequestId(c);
    const clientId = clientRequestId(c.req.header("x-request-id"));
    c.set("requestId", clientId ?? own);
    c.set("request", { id: own, ...(clientId ? { clientId } : {}) });
    c.set("core", { ...core, log: core.log.child({ requestId: own, ...(clientId ? { clientRequestId: clientId } : {}) }) });
    c.header("x-request-id", clientId ?? own);
    await next();
  });

function bearerToken(c: Context): string {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw new UnauthorizedError("Missing bearer token (Authorization: Bearer <accessToken>)");
  return match[1];
}

/** Authenticates the bearer token once per request (route groups may each ask for it): the token,
 * then the account (one GetItem). */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("actor")) return next();
  c.set("actor", { ...(await authenticate(c.get("core"), bearerToken(c))), request: c.get("request") });
  await next();
});

/** Verifies the bearer token only, for routes whose use case reads the account itself together with
 * its own reads and refuses a missing or disabled account first (core `verifyToken`). */
export const requireToken = createMiddleware<AppEnv>(async (c, next) => {
  c.set("actor", { ...(await verifyToken(c.get("core"), bearerToken(c))), request: c.get("request") });
  await next();
});

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("actor").role !== "admin") throw new ForbiddenError("Admins only");
  await next();
});

/** The request body as JSON, or undefined when there is none (actions whose body is optional). */
export async function optionalJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("Request body is not valid JSON");
  }
}

/** The request body as JSON; anything that is not JSON is a 400, never a 500. */
export async function jsonBody(c: Context): Promise<unknown> {
  const body = await optionalJsonBody(c);
  if (body === undefined) throw new ValidationError("Request body must be a JSON object");
  return body;
}
