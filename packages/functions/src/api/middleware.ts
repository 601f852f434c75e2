/** Request plumbing: bearer authentication, admin guard and JSON body reading. */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authenticate } from "@gpuaas/core/auth/service";
import { ForbiddenError, UnauthorizedError, ValidationError } from "@gpuaas/core/errors";
import type { AppEnv } from "./context";

export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw new UnauthorizedError("Missing bearer token (Authorization: Bearer <accessToken>)");
  c.set("actor", await authenticate(c.get("core"), match[1]));
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
