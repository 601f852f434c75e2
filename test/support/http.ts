/** HTTP helpers that go through the real Hono app with app.request(). */

import type { Core } from "@gpuaas/core";
import { ensureAdmin } from "@gpuaas/core/api";
import type { Hono } from "hono";

type AnyApp = Pick<Hono<any>, "request">;

export interface Call {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(
  app: AnyApp,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Call> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

let counter = 0;
export const uniqueEmail = (prefix = "user") => `${prefix}-${Date.now()}-${counter++}@example.com`;

/** Registers and logs in a fresh user; returns its id, email and token. */
export async function signUp(app: AnyApp, fullName = "Test User") {
  const email = uniqueEmail();
  const password = "correct horse battery";
  const reg = await call(app, "POST", "/api/v1/auth/register", { body: { email, password, fullName } });
  if (reg.status !== 201) throw new Error(`register failed: ${JSON.stringify(reg.body)}`);
  const login = await call(app, "POST", "/api/v1/auth/login", { body: { email, password } });
  return { id: reg.body.id as string, email, password, token: login.body.accessToken as string };
}

/** Creates an admin directly through core and logs it in over HTTP. */
export async function signUpAdmin(app: AnyApp, core: Core) {
  const email = uniqueEmail("admin");
  const password = "admin password 123";
  const { user } = await ensureAdmin(core, { email, password });
  const login = await call(app, "POST", "/api/v1/auth/login", { body: { email, password } });
  return { id: user!.id, email, password, token: login.body.accessToken as string };
}

export const validJob = (overrides: Record<string, unknown> = {}) => ({
  name: "train-resnet",
  image: "pytorch/pytorch:2.4.0-cuda12.1",
  command: "python train.py --epochs 3",
  gpuType: "A100",
  gpuCount: 1,
  estimatedHours: 1,
  ...overrides,
});
