/** The OpenAPI document (GET /openapi.json) against the app: it is a valid OpenAPI 3.1 document,
 * it describes exactly the routes the app serves (the console's `GET /` and `/console*` aside),
 * and real responses of the main flows match the schemas it documents for their route and status
 * (ajv, JSON Schema 2020-12), so neither the routes nor the views can drift from it unnoticed. */

import { createHash } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiPath } from "../packages/functions/src/api/openapi/document";
import { testApp } from "./support/core";
import { type Call, call, signUp, signUpAdmin, uniqueEmail, validJob } from "./support/http";
import { jobMaker, requestLine, routeKeys } from "./support/routes";
import { eventually } from "./support/wait";

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, any>; security?: unknown[]; operationId: string; summary: string; tags: string[] }>
  >;
  components: { responses: Record<string, any>; schemas: Record<string, unknown> };
};

let ctx: Awaited<ReturnType<typeof testApp>>;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();
/** Per route, the statuses whose responses were validated against the document. */
const validated = new Map<string, Set<number>>();

/** The app's routes as the document should list them: the web console is not part of the API. */
const apiRoutes = (keys: string[]) => keys.filter((key) => key !== "GET /" && !key.split(" ")[1]!.startsWith("/console"));

function documentedResponse(route: string, status: number) {
  const [method, path] = route.split(" ") as [string, string];
  const operation = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${route} is not in the document`);
  const response = operation.responses[String(status)];
  if (!response) return undefined;
  return response.$ref ? doc.components.responses[response.$ref.split("/").at(-1)] : response;
}

function validatorFor(schema: unknown): ValidateFunction {
  // Refs point into the document ("#/components/schemas/Job"): resolve them against the copy added as "doc".
  const text = JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/');
  let validate = compiled.get(text);
  if (!validate) {
    validate = ajv.compile(JSON.parse(text));
    compiled.set(text, validate);
  }
  return validate;
}

/** Asserts that `res` is a response the document lists for `route` and that its body matches. */
function expectDocumented(route: string, res: Call) {
  const response = documentedResponse(route, res.status);
  expect(response, `${route} answered ${res.status}, which the document does not list: ${JSON.stringify(res.body)}`).toBeDefined();
  const media = res.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  // A response without a body (204) is documented without content.
  const content = media === "" && response.content === undefined ? {} : response.content?.[media];
  expect(content, `${route} ${res.status} answered ${media}, which the document does not list`).toBeDefined();
  if (media === "application/json") {
    const validate = validatorFor(content.schema);
    expect(validate(res.body), `${route} ${res.status}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(res.body)}`).toBe(true);
  }
  if (!validated.has(route)) validated.set(route, new Set());
  validated.get(route)!.add(res.status);
}

/** Calls `route` ("METHOD /path/:id") on the app and checks the response against the document. */
async function api(
  route: string,
  opts: {
    id?: string;
    path?: string;
    query?: string;
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Call> {
  const { method, path: routePath } = requestLine(route, opts.id);
  const path = opts.path ?? routePath;
  const res = await call(ctx.app, method, opts.query ? `${path}?${opts.query}` : path, opts);
  expectDocumented(route, res);
  return res;
}

beforeAll(async () => {
  // Runs last an hour per GPU-hour, so RUNNING jobs stay running until an admin ends them.
  ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", DEFAULT_MONTHLY_GPU_HOURS: "1000" });
  doc = (await call(ctx.app, "GET", "/openapi.json")).body;
  ajv.addSchema({ $id: "doc", components: { schemas: doc.components.schemas } });
});
afterAll(() => ctx.engine.shutdown());

describe("the document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("describes exactly the routes the app serves (the console aside)", () => {
    const served = apiRoutes(routeKeys(ctx.app));
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const asDocumented = (key: string) => `${key.split(" ")[0]} ${openApiPath(key.split(" ")[1]!)}`;
    expect({
      servedButUndocumented: served.filter((key) => !documented.includes(asDocumented(key))),
      documentedButNotServed: documented.filter((key) => !served.map(asDocumented).includes(key)),
    }).toEqual({ servedButUndocumented: [], documentedButNotServed: [] });
  });

  it("gives every operation a unique operationId, a summary and a tag", () => {
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    expect(new Set(operations.map((op) => op.operationId)).size).toBe(operations.length);
    for (const op of operations) expect([op.summary, op.tags.length], op.operationId).toEqual([expect.any(String), 1]);
  });

  it("marks the public routes public and every other one as needing the bearer token", () => {
    expect((doc as any).components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect((doc as any).security).toEqual([{ bearerAuth: [] }]);
    const publicRoutes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => (op.security?.length === 0 ? [`${method.toUpperCase()} ${path}`] : [])),
    );
    expect(publicRoutes.sort()).toEqual(
      [
        "GET /health",
        "GET /openapi.json",
        "GET /docs",
        "GET /.well-known/jwks.json",
        "GET /api/v1/catalog/gpus",
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/login",
      ].sort(),
    );
  });

  it("documents the Idempotency-Key header of POST /jobs and the query parameters of list routes", () => {
    const submit = doc.paths["/api/v1/jobs"]!.post as any;
    expect(submit.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
    const list = doc.paths["/api/v1/jobs"]!.get as any;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(["status", "limit", "cursor"]);
    const costs = doc.paths["/api/v1/costs"]!.get as any;
    expect(costs.parameters.filter((p: { required: boolean }) => p.required).map((p: { name: string }) => p.name)).toEqual(["from", "to"]);
  });
});

describe("Swagger UI", () => {
  it("GET /docs serves Swagger UI on /openapi.json with the console's security headers, keeping no token", async () => {
    const res = await api("GET /docs");
    expect(res.status).toBe(200);
    expect(res.body).toContain("SwaggerUIBundle");
    expect(res.body).toContain("/openapi.json");
    // The token typed into Authorize is not written to localStorage.
    expect(res.body).toMatch(/persistAuthorization:\s*false/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    // Inline scripts run only by hash: exactly the page's own.
    const inline = [...(res.body as string).matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline).toHaveLength(1);
    const hash = createHash("sha256").update(inline[0]!).digest("base64");
    expect(/script-src ([^;]*)/.exec(csp)?.[1]).toBe(`'self' 'sha256-${hash}'`);
    // Its script and styles are served by the app itself (no CDN): /docs works without internet.
    const assets = [...(res.body as string).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.sort()).toEqual([
      "/console/vendor/swagger-ui-dist/swagger-ui-bundle.js",
      "/console/vendor/swagger-ui-dist/swagger-ui.css",
    ]);
    for (const asset of assets) expect((await ctx.app.request(asset)).status, asset).toBe(200);
  });
});

describe("real responses match the documented schemas", () => {
  it("covers the main flows of every route", async () => {
    expect((await api("GET /health")).status).toBe(200);
    expect((await api("GET /.well-known/jwks.json")).status).toBe(200);
    expect((await api("GET /openapi.json")).status).toBe(200);
    expect((await api("GET /api/v1/catalog/gpus")).status).toBe(200);

    // Accounts
    const email = uniqueEmail("doc");
    const account = { email, password: "correct horse battery", fullName: "Doc User" };
    expect((await api("POST /api/v1/auth/register", { body: account })).status).toBe(201);
    // A taken email is answered as a free one (no account enumeration).
    expect((await api("POST /api/v1/auth/register", { body: account })).status).toBe(201);
    expect((await api("POST /api/v1/auth/register", { body: { ...account, email: "not an email", extra: 1 } })).status).toBe(400);
    const login = await api("POST /api/v1/auth/login", { body: { email, password: account.password } });
    expect(login.status).toBe(200);
    expect((await api("POST /api/v1/auth/login", { body: { email, password: "wrong password" } })).status).toBe(401);
    const user = login.body.accessToken as string;
    expect((await api("GET /api/v1/me", { token: user })).status).toBe(200);
    expect((await api("GET /api/v1/me")).status).toBe(401);
    const changer = await signUp(ctx.app);
    const change = (currentPassword: string) =>
      api("POST /api/v1/auth/password", { token: changer.token, body: { currentPassword, newPassword: "a new password 42" } });
    expect((await change("not the password")).status).toBe(400);
    expect((await change(changer.password)).status).toBe(200);
    const quitter = await signUp(ctx.app);
    expect((await api("POST /api/v1/auth/logout", { token: quitter.token })).status).toBe(204);
    expect((await api("POST /api/v1/auth/logout", { token: quitter.token })).status).toBe(401);
    for (let i = 0; i < 5; i++) await api("POST /api/v1/auth/login", { body: { email: quitter.email, password: "wrong password" } });
    expect((await api("POST /api/v1/auth/login", { body: { email: quitter.email, password: quitter.password } })).status).toBe(429);
    const [admin, orgOwner] = await Promise.all([signUpAdmin(ctx.app, ctx.core), signUp(ctx.app)]);
    const jobIn = jobMaker(ctx.app, ctx.engine, admin.token);

    // Orgs
    const org = await api("POST /api/v1/orgs", { token: orgOwner.token, body: { name: `Doc Org ${Date.now()}` } });
    expect(org.status).toBe(201);
    expect((await api("POST /api/v1/orgs/join", { token: user, body: { inviteCode: org.body.inviteCode } })).status).toBe(200);
    expect((await api("POST /api/v1/orgs/join", { token: user, body: { inviteCode: "NoSuchCodeNoSuchCode00" } })).status).toBe(404);
    expect(
      (await api("PUT /api/v1/orgs/:id/budget", { id: org.body.id, token: orgOwner.token, body: { monthlyUsd: "1000" } })).status,
    ).toBe(200);
    expect((await api("PUT /api/v1/orgs/:id/budget", { id: org.body.id, token: user, body: { monthlyUsd: "1000" } })).status).toBe(403);
    expect((await api("GET /api/v1/orgs", { token: orgOwner.token })).body.items[0]).toHaveProperty("monthToDate");
    expect((await api("GET /api/v1/orgs", { token: user })).status).toBe(200);
    expect((await api("GET /api/v1/orgs/:id/members", { id: org.body.id, token: user })).body.items).toHaveLength(2);
    const [leaver, removed] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    for (const m of [leaver, removed])
      await call(ctx.app, "POST", "/api/v1/orgs/join", { token: m.token, body: { inviteCode: org.body.inviteCode } });
    expect((await api("POST /api/v1/orgs/:id/leave", { id: org.body.id, token: leaver.token })).status).toBe(204);
    expect((await api("POST /api/v1/orgs/:id/leave", { id: org.body.id, token: orgOwner.token })).status).toBe(403);
    const removal = `/api/v1/orgs/${org.body.id}/members/${removed.id}`;
    expect((await api("DELETE /api/v1/orgs/:id/members/:userId", { path: removal, token: user })).status).toBe(403);
    expect((await api("DELETE /api/v1/orgs/:id/members/:userId", { path: removal, token: orgOwner.token })).status).toBe(204);
    expect((await api("DELETE /api/v1/orgs/:id/members/:userId", { path: removal, token: orgOwner.token })).status).toBe(404);
    expect((await api("POST /api/v1/orgs/:id/invite-code", { id: org.body.id, token: orgOwner.token })).status).toBe(200);
    expect((await api("GET /api/v1/orgs/:id/alerts", { id: org.body.id, token: orgOwner.token })).status).toBe(200);

    // Jobs: submission (and its replay), reads, cancel
    const key = `doc-${Date.now()}`;
    const submitted = await api("POST /api/v1/jobs", {
      token: user,
      body: validJob({ orgId: org.body.id }),
      headers: { "idempotency-key": key },
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body.waiting.reason).toBe("AWAITING_APPROVAL");
    expect(
      (await api("POST /api/v1/jobs", { token: user, body: validJob({ orgId: org.body.id }), headers: { "idempotency-key": key } })).status,
    ).toBe(200);
    expect((await api("POST /api/v1/jobs", { token: user, body: validJob({ gpu_count: 1 }) })).body.error.issues).toBeDefined();
    expect(
      (await api("POST /api/v1/jobs", { token: user, rawBody: JSON.stringify(validJob({ command: "x".repeat(70_000) })) })).status,
    ).toBe(413);
    expect((await api("GET /api/v1/jobs", { token: user, query: "limit=1" })).status).toBe(200);
    expect((await api("GET /api/v1/jobs", { token: user, query: "limit=0" })).status).toBe(400);
    expect((await api("GET /api/v1/jobs/:id", { id: submitted.body.id, token: user })).status).toBe(200);
    expect((await api("GET /api/v1/jobs/:id", { id: submitted.body.id, token: orgOwner.token })).status).toBe(200);
    expect((await api("GET /api/v1/jobs/:id", { id: "01ARZ3NDEKTSV4RRFFQ69G5FAV", token: user })).status).toBe(404);
    expect((await api("GET /api/v1/jobs/:id/events", { id: submitted.body.id, token: user })).status).toBe(200);
    expect((await api("GET /api/v1/orgs/:id/jobs", { id: org.body.id, token: orgOwner.token })).body.items.length).toBeGreaterThan(0);
    const toCancel = await jobIn(user, "PENDING");
    expect((await api("POST /api/v1/jobs/:id/cancel", { id: toCancel, token: user, body: { reason: "changed my mind" } })).status).toBe(
      200,
    );
    const again = await api("POST /api/v1/jobs/:id/cancel", { id: toCancel, token: user });
    expect([again.status, again.body.error.currentStatus]).toEqual([409, "CANCELLED"]);

    // Admin: the lifecycle actions
    expect((await api("GET /api/v1/admin/jobs", { token: user })).status).toBe(403);
    expect((await api("GET /api/v1/admin/jobs", { token: admin.token, query: "status=PENDING&limit=5" })).status).toBe(200);
    expect((await api("GET /api/v1/admin/jobs/:id/workflow", { id: submitted.body.id, token: admin.token })).body.execution).not.toBeNull();
    const pending = await jobIn(user, "PENDING");
    expect((await api("POST /api/v1/admin/jobs/:id/approve", { id: pending, token: admin.token })).body.waiting.reason).toBe(
      "AWAITING_START",
    );
    expect(
      (await api("POST /api/v1/admin/jobs/:id/reject", { id: await jobIn(user, "PENDING"), token: admin.token, body: { reason: "no" } }))
        .status,
    ).toBe(200);
    const approved = await jobIn(user, "APPROVED");
    const dependent = await api("POST /api/v1/jobs", { token: user, body: validJob({ dependsOn: [approved] }) });
    await jobIn(user, "PENDING"); // keeps the admission queue busy
    expect((await api("POST /api/v1/admin/jobs/:id/approve", { id: dependent.body.id, token: admin.token })).body.waiting.reason).toBe(
      "WAITING_FOR_DEPENDENCIES",
    );
    expect((await api("POST /api/v1/admin/jobs/:id/start", { id: approved, token: admin.token })).status).toBe(200);
    expect((await api("POST /api/v1/admin/jobs/:id/complete", { id: approved, token: admin.token })).status).toBe(200);
    expect(
      (
        await api("POST /api/v1/admin/jobs/:id/fail", {
          id: await jobIn(user, "RUNNING"),
          token: admin.token,
          body: { errorMessage: "node lost" },
        })
      ).status,
    ).toBe(200);
    expect((await api("POST /api/v1/admin/jobs/:id/complete", { id: approved, token: admin.token })).status).toBe(409);

    // Capacity pools and their queue
    const pool = { name: "doc-pool", provider: "aws", region: "us-east-1", gpuType: "H100", totalGpus: 2, totalCpu: 64, totalRamGb: 512 };
    const shared = await api("POST /api/v1/admin/clusters", { token: admin.token, body: pool });
    expect(shared.status).toBe(201);
    expect(
      (await api("POST /api/v1/orgs/:id/clusters", { id: org.body.id, token: orgOwner.token, body: { ...pool, name: "doc-private" } }))
        .status,
    ).toBe(201);
    // Admitted at once on approval: its execution may never rest in AwaitStart, so no jobIn() here.
    const first = (await api("POST /api/v1/jobs", { token: user, body: validJob({ gpuType: "H100", gpuCount: 2 }) })).body.id as string;
    expect((await api("POST /api/v1/admin/jobs/:id/approve", { id: first, token: admin.token })).status).toBe(200);
    await eventually(
      "the first H100 job to be admitted",
      async () => (await call(ctx.app, "GET", `/api/v1/jobs/${first}`, { token: user })).body.status === "RUNNING",
    );
    const second = await jobIn(user, "APPROVED", { gpuType: "H100" });
    expect((await api("GET /api/v1/jobs/:id", { id: second, token: user })).body.waiting.reason).toBe("WAITING_FOR_CAPACITY");
    expect((await api("GET /api/v1/clusters/:id/queue", { id: shared.body.id, token: user })).body.items[0].job.id).toBe(second);
    expect((await api("GET /api/v1/clusters/:id/queue", { id: shared.body.id, token: orgOwner.token })).body.items[0]).not.toHaveProperty(
      "job",
    );
    expect((await api("GET /api/v1/clusters", { token: user })).body.items.length).toBeGreaterThanOrEqual(2);
    expect((await api("GET /api/v1/clusters/:id", { id: shared.body.id, token: user })).status).toBe(200);
    expect((await api("PATCH /api/v1/clusters/:id", { id: shared.body.id, token: admin.token, body: { totalGpus: 1 } })).status).toBe(409);
    expect((await api("PATCH /api/v1/clusters/:id", { id: shared.body.id, token: admin.token, body: { draining: true } })).status).toBe(
      200,
    );
    expect((await api("POST /api/v1/admin/jobs/:id/complete", { id: first, token: admin.token })).status).toBe(200);

    // Money: reports, rollup, snapshots
    const today = new Date().toISOString().slice(0, 10);
    const costs = await api("GET /api/v1/costs", { token: admin.token, query: `from=${today}&to=${today}&groupBy=provider` });
    expect(costs.body.items.length).toBeGreaterThan(0);
    for (const groupBy of ["gpuType", "org", "day"])
      await api("GET /api/v1/costs", { token: user, query: `from=${today}&to=${today}&groupBy=${groupBy}` });
    expect((await api("GET /api/v1/costs", { token: user, query: "from=2026-02-30&to=2026-01-01" })).status).toBe(400);
    expect(
      (await api("POST /api/v1/admin/costs/rollup", { token: admin.token, query: `date=${today}` })).body.snapshots.length,
    ).toBeGreaterThan(0);
    expect((await api("GET /api/v1/admin/costs/snapshots", { token: admin.token, query: `date=${today}` })).body.rolledUpAt).toEqual(
      expect.any(String),
    );

    // Users and quotas
    const promoted = await signUp(ctx.app);
    expect((await api("PATCH /api/v1/admin/users/:id", { id: promoted.id, token: admin.token, body: { role: "admin" } })).status).toBe(200);
    expect((await api("PATCH /api/v1/admin/users/:id", { id: promoted.id, token: admin.token, body: {} })).status).toBe(400);
    expect((await api("GET /api/v1/admin/audit", { token: admin.token, query: "limit=5" })).status).toBe(200);
    const users = await api("GET /api/v1/admin/users", { token: admin.token, query: "limit=2" });
    expect(users.body.items).toHaveLength(2);
    expect(
      (await api("PUT /api/v1/admin/users/:id/quota", { id: users.body.items[0].id, token: admin.token, body: { limitHours: 1000 } }))
        .status,
    ).toBe(200);
    expect((await api("POST /api/v1/admin/quotas/reset", { token: admin.token })).status).toBe(200);
    expect((await api("POST /api/v1/admin/quotas/reset", { token: admin.token, body: { period: "2026-01" } })).status).toBe(400);
  });

  it("validated a success response of every route", () => {
    const withoutSuccess = apiRoutes(routeKeys(ctx.app)).filter(
      (route) => ![...(validated.get(route) ?? [])].some((status) => status < 300),
    );
    expect(withoutSuccess).toEqual([]);
  });
});
