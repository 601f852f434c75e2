/** The API Lambda entry point (packages/functions/src/api/lambda.ts) against DynamoDB Local:
 * linked resources are given the way SST gives them (SST_RESOURCE_* env), and every answer must
 * equal the local server's (the same app on the same table via app.request()). */

import { createCore, generateSigningKey, loadConfig } from "@gpuaas/core";
import { ensureTable } from "@gpuaas/core/aws";
import { createApp } from "@gpuaas/functions";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newId } from "../packages/core/src/util/id";
import { apiEvent, type EventOptions, invoke } from "./support/apigw";
import { call, uniqueEmail } from "./support/http";

const JWT_SIGNING_KEY = JSON.stringify(generateSigningKey("lambda-test"));
const TABLE_NAME = `test-lambda-${newId().toLowerCase()}`;
const savedEnv = { ...process.env };

let handler: typeof import("../packages/functions/src/api/lambda").handler;
let local: ReturnType<typeof createApp>;

beforeAll(async () => {
  // Links as SST's Resource reads them from the environment (SST_RESOURCE_<name>; in AWS the
  // secret arrives in an encrypted file that the same Resource decrypts).
  process.env.SST_RESOURCE_App = JSON.stringify({ name: "gpuaas", stage: "test" });
  process.env.SST_RESOURCE_Table = JSON.stringify({ name: TABLE_NAME, type: "sst.aws.Dynamo" });
  process.env.SST_RESOURCE_JwtSigningKey = JSON.stringify({ value: JWT_SIGNING_KEY, type: "sst.sst.Secret" });
  process.env.DYNAMODB_ENDPOINT = inject("dynamoEndpoint");
  delete process.env.TABLE_NAME;
  delete process.env.JWT_SIGNING_KEY;

  const core = createCore(loadConfig({ TABLE_NAME, JWT_SIGNING_KEY, DYNAMODB_ENDPOINT: inject("dynamoEndpoint") }));
  await ensureTable(core.db.client, TABLE_NAME);
  local = createApp(core);
  ({ handler } = await import("../packages/functions/src/api/lambda"));
});

afterAll(() => {
  process.env = savedEnv;
});

/** The same request through the Lambda handler and through the local app. */
async function both(method: string, path: string, opts: EventOptions = {}) {
  const lambda = await invoke(handler, apiEvent(method, path, opts));
  const headers = {
    ...opts.headers,
    ...(opts.body !== undefined && typeof opts.body !== "string" ? { "content-type": "application/json" } : {}),
  };
  const url = opts.query ? `${path}?${opts.query}` : path;
  const viaApp = await call(local, method, url, {
    headers,
    ...(opts.body === undefined ? {} : { rawBody: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) }),
  });
  return { lambda, local: viaApp };
}

describe("API Lambda handler (API Gateway v2 events)", () => {
  it.each([
    ["GET", "/health"],
    ["GET", "/api/v1/catalog/gpus"],
    ["GET", "/api/v1/no-such-route"],
    ["GET", "/api/v1/me"],
  ])("%s %s answers like the local server", async (method, path) => {
    const { lambda, local } = await both(method, path);
    expect(lambda.status).toBe(local.status);
    expect(lambda.body).toEqual(local.body);
    expect(lambda.headers["content-type"]).toBe(local.headers.get("content-type"));
  });

  it("reads the table name from the linked Table (health pings it)", async () => {
    const { lambda } = await both("GET", "/health");
    expect(lambda).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("registers, logs in and serves /me with the linked JwtSecret: tokens work across both", async () => {
    const email = uniqueEmail("lambda");
    const password = "correct horse battery";
    const reg = await invoke(handler, apiEvent("POST", "/api/v1/auth/register", { body: { email, password, fullName: "Ada" } }));
    expect(reg.status).toBe(201);

    const login = await both("POST", "/api/v1/auth/login", { body: { email, password } });
    expect(login.lambda.status).toBe(200);
    expect(Object.keys(login.lambda.body).sort()).toEqual(Object.keys(login.local.body).sort());

    // A token minted by the Lambda is accepted by the local app and vice versa: same secret, same table.
    const fromLambda = { authorization: `Bearer ${login.lambda.body.accessToken}` };
    const fromLocal = { authorization: `Bearer ${login.local.body.accessToken}` };
    const a = await both("GET", "/api/v1/me", { headers: fromLambda });
    const b = await both("GET", "/api/v1/me", { headers: fromLocal });
    expect(a.lambda.status).toBe(200);
    expect(a.lambda.body).toEqual(a.local.body);
    expect(b.lambda.body).toEqual(a.lambda.body);
    expect(a.lambda.body).toMatchObject({ id: reg.body.id, email });
  });

  it("decodes a base64 body the way API Gateway sends binary-safe payloads", async () => {
    const email = uniqueEmail("b64");
    const res = await invoke(
      handler,
      apiEvent("POST", "/api/v1/auth/register", { body: { email, password: "long enough pw", fullName: "B" }, base64: true }),
    );
    expect(res.status).toBe(201);
    expect(res.body.email).toBe(email);
  });

  it.each([
    ["invalid JSON", "{not json", 400],
    ["a body over the limit", JSON.stringify({ pad: "x".repeat(70 * 1024) }), 413],
  ])("maps %s to the same error as the local server", async (_, body, status) => {
    const { lambda, local } = await both("POST", "/api/v1/auth/register", {
      body,
      headers: { "content-type": "application/json" },
    });
    expect(lambda.status).toBe(status);
    expect(lambda.body).toEqual(local.body);
  });

  it("passes the query string through", async () => {
    const email = uniqueEmail("query");
    const password = "correct horse battery";
    await invoke(handler, apiEvent("POST", "/api/v1/auth/register", { body: { email, password, fullName: "Q" } }));
    const login = await invoke(handler, apiEvent("POST", "/api/v1/auth/login", { body: { email, password } }));
    const headers = { authorization: `Bearer ${login.body.accessToken}` };
    // limit=0 is refused, so a dropped query string (default limit) would answer 200 instead.
    const { lambda, local } = await both("GET", "/api/v1/jobs", { query: "limit=0", headers });
    expect(lambda.status).toBe(400);
    expect(lambda.body).toEqual(local.body);
    expect(lambda.body.error.message).toContain("limit");
  });
});
