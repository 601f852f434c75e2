/** The OpenAPI 3.1 description of every route of the app, generated from the zod schemas that
 * validate requests (core's input schemas) and the response schemas in ./responses.ts with zod's
 * own `z.toJSONSchema`. The table below only says which schema goes where, who may call, and
 * which statuses a route can answer; test/openapi.int.test.ts holds it to the app's route list and
 * to real responses. Built on the first GET /openapi.json (routes/docs.ts), so no other route
 * pays for building it. */

import {
  ChangePasswordInput,
  CostReportInput,
  CreateClusterInput,
  CreateOrgClusterInput,
  CreateOrgInput,
  FailInput,
  IdempotencyKeySchema,
  JoinOrgInput,
  ListAuditInput,
  ListJobsInput,
  ListOrgJobsInput,
  ListUsersInput,
  LoginInput,
  NoteInput,
  RegisterInput,
  RejectInput,
  RollupInput,
  SetBudgetInput,
  SetQuotaInput,
  SnapshotsInput,
  SubmitJobInput,
  UpdateClusterInput,
  UpdateUserInput,
} from "@gpuaas/core/api";
import * as z from "zod";
import { responseSchemas } from "./responses";

/** Who may call: anyone, any signed-in account, or admins. */
type Access = "public" | "user" | "admin";
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;

interface RouteDoc {
  summary: string;
  tag: string;
  access: Access;
  /** The JSON body, by its schema's name in REQUESTS; `optional` when it may be left out. */
  body?: keyof typeof REQUESTS;
  optionalBody?: boolean;
  /** Query parameters: the object schema core parses them with. */
  query?: z.ZodObject;
  idempotencyKey?: boolean;
  /** The success status and its body (a name in RESPONSES, or a raw media-type object). */
  ok: [status: 200 | 201 | 204, body: ResponseName | { content?: Record<string, unknown>; description: string }];
  /** Another success status (POST /jobs replays answer 200). */
  alsoOk?: [status: 200, description: string];
  /** Statuses beyond those implied by access, path id, body and query. */
  errors?: ErrorStatus[];
  /** A public route without a body that still reads storage (a 503 when storage does not answer). */
  storage?: boolean;
}

/** Request bodies, by component name. */
const REQUESTS = {
  RegisterInput,
  LoginInput,
  ChangePasswordInput,
  SubmitJobInput,
  NoteInput,
  RejectInput,
  FailInput,
  SetQuotaInput,
  UpdateUserInput,
  CreateOrgInput,
  JoinOrgInput,
  SetBudgetInput,
  CreateClusterInput,
  CreateOrgClusterInput,
  UpdateClusterInput,
} satisfies Record<string, z.ZodType>;

type ResponseName = keyof ReturnType<typeof responseSchemas>;

/** Every route as "METHOD path" (Hono's path syntax, as in app.routes). */
export const ROUTES: Record<string, RouteDoc> = {
  "GET /.well-known/jwks.json": {
    summary:
      "The public keys access tokens verify against (JWK Set, ES256): the current signing key, then retired ones still within their tokens' lifetime",
    tag: "Service",
    access: "public",
    ok: [200, "Jwks"],
  },
  "GET /health": {
    summary: "Liveness: 200 when the app and its table answer",
    tag: "Service",
    access: "public",
    ok: [200, "Health"],
    storage: true,
  },
  "GET /openapi.json": {
    summary: "This document (OpenAPI 3.1)",
    tag: "Service",
    access: "public",
    ok: [200, { description: "The OpenAPI document", content: { "application/json": { schema: { type: "object" } } } }],
  },
  "GET /docs": {
    summary: "Swagger UI for this document",
    tag: "Service",
    access: "public",
    ok: [200, { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } }],
  },

  "POST /api/v1/auth/register": {
    summary: "Create an account (a taken email gets the same 201 answer and changes nothing, so registration reveals no accounts)",
    tag: "Auth",
    access: "public",
    body: "RegisterInput",
    ok: [201, "User"],
    errors: [403],
  },
  "POST /api/v1/auth/login": {
    summary: "Sign in: a short-lived bearer token (JWT)",
    tag: "Auth",
    access: "public",
    body: "LoginInput",
    ok: [200, "Token"],
    errors: [401, 403, 429],
  },
  "POST /api/v1/auth/logout": {
    summary: "Sign out everywhere: every token of the account, this one included, stops working at once",
    tag: "Auth",
    access: "user",
    ok: [204, { description: "Signed out" }],
  },
  "POST /api/v1/auth/password": {
    summary: "Change one's password (every older token stops working); answers a new token",
    tag: "Auth",
    access: "user",
    body: "ChangePasswordInput",
    ok: [200, "Token"],
    errors: [429],
  },
  "GET /api/v1/me": { summary: "The caller's account and this month's quota", tag: "Auth", access: "user", ok: [200, "Me"] },

  "POST /api/v1/jobs": {
    summary: "Submit a job (reserves GPU-hours of the caller's quota atomically)",
    tag: "Jobs",
    access: "user",
    body: "SubmitJobInput",
    idempotencyKey: true,
    ok: [201, "Job"],
    alsoOk: [200, "A retry with the same Idempotency-Key: the job the first request created"],
    errors: [404, 409, 429],
  },
  "GET /api/v1/jobs": {
    summary: "The caller's jobs, newest first",
    tag: "Jobs",
    access: "user",
    query: ListJobsInput,
    ok: [200, "JobPage"],
  },
  "GET /api/v1/jobs/:id": { summary: "One job, with why it waits", tag: "Jobs", access: "user", ok: [200, "Job"] },
  "GET /api/v1/jobs/:id/events": {
    summary: "A job's lifecycle history, oldest first",
    tag: "Jobs",
    access: "user",
    ok: [200, "JobEvents"],
  },
  "POST /api/v1/jobs/:id/cancel": {
    summary: "Cancel one's own job",
    tag: "Jobs",
    access: "user",
    body: "NoteInput",
    optionalBody: true,
    ok: [200, "Job"],
    errors: [409],
  },

  "GET /api/v1/admin/jobs": {
    summary: "Every job, newest first",
    tag: "Admin",
    access: "admin",
    query: ListJobsInput,
    ok: [200, "JobPage"],
  },
  "GET /api/v1/admin/jobs/:id/workflow": { summary: "A job's workflow execution", tag: "Admin", access: "admin", ok: [200, "JobWorkflow"] },
  "POST /api/v1/admin/jobs/:id/approve": adminAction("Approve a PENDING job", "NoteInput", true),
  "POST /api/v1/admin/jobs/:id/reject": adminAction("Reject a PENDING job, with a reason", "RejectInput"),
  "POST /api/v1/admin/jobs/:id/start": adminAction("Start an APPROVED job (on a pool with free capacity, if any)", "NoteInput", true),
  "POST /api/v1/admin/jobs/:id/complete": adminAction("Complete a RUNNING job early", "NoteInput", true),
  "POST /api/v1/admin/jobs/:id/fail": adminAction("Fail a RUNNING job, with an error message", "FailInput"),
  "GET /api/v1/admin/audit": {
    summary:
      "The audit trail, newest first: every admin or org-owner change (accounts, quotas, budgets, pools, invite codes, members) and every reset or rollup run by hand, with actor, before/after, time and request ids",
    tag: "Admin",
    access: "admin",
    query: ListAuditInput,
    ok: [200, "AuditPage"],
  },
  "GET /api/v1/admin/users": {
    summary: "Users with this month's quota",
    tag: "Admin",
    access: "admin",
    query: ListUsersInput,
    ok: [200, "UserPage"],
  },
  "PATCH /api/v1/admin/users/:id": {
    summary: "Promote, demote, disable or enable an account (the last active admin stays one)",
    tag: "Admin",
    access: "admin",
    body: "UpdateUserInput",
    ok: [200, "AdminUser"],
    errors: [409],
  },
  "PUT /api/v1/admin/users/:id/quota": {
    summary: "Set a user's monthly GPU-hour limit (this month and later ones)",
    tag: "Admin",
    access: "admin",
    body: "SetQuotaInput",
    ok: [200, "AdminUser"],
  },
  "POST /api/v1/admin/quotas/reset": {
    summary: "Run (or continue) this month's quota reset; takes no body",
    tag: "Admin",
    access: "admin",
    ok: [200, "QuotaReset"],
    errors: [400],
  },

  "GET /api/v1/costs": {
    summary: "Costs over UTC days, grouped (admins: all jobs; org owners: their orgs'; others: their own)",
    tag: "Costs",
    access: "user",
    query: CostReportInput,
    ok: [200, "CostReport"],
  },
  "POST /api/v1/admin/costs/rollup": {
    summary: "Roll up a day's cost and usage snapshots now (yesterday without `date`)",
    tag: "Costs",
    access: "admin",
    query: RollupInput,
    ok: [200, "Rollup"],
  },
  "GET /api/v1/admin/costs/snapshots": {
    summary: "A day's stored cost snapshots",
    tag: "Costs",
    access: "admin",
    query: SnapshotsInput,
    ok: [200, "CostSnapshots"],
  },
  "GET /api/v1/catalog/gpus": {
    summary: "GPU types, providers and prices per GPU-hour",
    tag: "Catalog",
    access: "public",
    ok: [200, "Catalog"],
  },

  "POST /api/v1/orgs": {
    summary: "Create an org; the caller owns it (409 ALREADY_EXISTS for a taken name, MEMBERSHIP_LIMIT past MAX_ORGS_PER_USER)",
    tag: "Orgs",
    access: "user",
    body: "CreateOrgInput",
    ok: [201, "Org"],
    errors: [409],
  },
  "GET /api/v1/orgs": { summary: "The caller's orgs", tag: "Orgs", access: "user", ok: [200, "OrgList"] },
  "POST /api/v1/orgs/join": {
    summary: "Join an org with its invite code (409 MEMBERSHIP_LIMIT past MAX_ORGS_PER_USER)",
    tag: "Orgs",
    access: "user",
    body: "JoinOrgInput",
    ok: [200, "Org"],
    errors: [404, 409],
  },
  "GET /api/v1/orgs/:id/members": { summary: "An org's members", tag: "Orgs", access: "user", ok: [200, "OrgMembers"] },
  "DELETE /api/v1/orgs/:id/members/:userId": {
    summary:
      "Remove a member (the org's owner; the owner cannot be removed): they no longer see the org or charge its budget, and the invite code is rotated",
    tag: "Orgs",
    access: "user",
    ok: [204, { description: "Removed" }],
  },
  "POST /api/v1/orgs/:id/leave": {
    summary: "Leave an org (a member; its owner cannot leave it)",
    tag: "Orgs",
    access: "user",
    ok: [204, { description: "Left" }],
  },
  "POST /api/v1/orgs/:id/invite-code": { summary: "Rotate the invite code (owner)", tag: "Orgs", access: "user", ok: [200, "Org"] },
  "PUT /api/v1/orgs/:id/budget": {
    summary: "Set the monthly budget (owner)",
    tag: "Orgs",
    access: "user",
    body: "SetBudgetInput",
    ok: [200, "OrgSpend"],
  },
  "GET /api/v1/orgs/:id/alerts": { summary: "Budget alerts (owner, admins)", tag: "Orgs", access: "user", ok: [200, "OrgAlerts"] },
  "GET /api/v1/orgs/:id/jobs": {
    summary: "Jobs submitted in the org, newest first (owner, admins)",
    tag: "Orgs",
    access: "user",
    query: ListOrgJobsInput,
    ok: [200, "JobPage"],
  },

  "POST /api/v1/admin/clusters": {
    summary: "Create a capacity pool (shared, or private to `orgId`)",
    tag: "Clusters",
    access: "admin",
    body: "CreateClusterInput",
    ok: [201, "Cluster"],
    errors: [404, 409],
  },
  "POST /api/v1/orgs/:id/clusters": {
    summary: "Create a private pool of the org (owner, admins)",
    tag: "Clusters",
    access: "user",
    body: "CreateOrgClusterInput",
    ok: [201, "Cluster"],
    errors: [409],
  },
  "GET /api/v1/clusters": { summary: "The pools the caller can use", tag: "Clusters", access: "user", ok: [200, "ClusterList"] },
  "GET /api/v1/clusters/:id": { summary: "One pool", tag: "Clusters", access: "user", ok: [200, "Cluster"] },
  "PATCH /api/v1/clusters/:id": {
    summary: "Resize or drain a pool (admins; a private pool's org owner)",
    tag: "Clusters",
    access: "user",
    body: "UpdateClusterInput",
    ok: [200, "Cluster"],
    errors: [409],
  },
  "GET /api/v1/clusters/:id/queue": {
    summary: "A pool's waiting jobs in admission order, with expected start",
    tag: "Clusters",
    access: "user",
    ok: [200, "ClusterQueue"],
  },
};

function adminAction(summary: string, body: keyof typeof REQUESTS, optionalBody = false): RouteDoc {
  return { summary, tag: "Admin", access: "admin", body, optionalBody, ok: [200, "Job"], errors: [409, 503] };
}

/** The error responses, shared by every route (components.responses). */
const ERRORS: Record<ErrorStatus, [name: string, description: string]> = {
  400: [
    "BadRequest",
    "Bad input: VALIDATION_ERROR (with `issues`), QUOTA_EXCEEDED, OPEN_JOBS_LIMIT, BUDGET_EXCEEDED, NEVER_FITS, DEPENDENCY_FAILED",
  ],
  401: ["Unauthorized", "UNAUTHORIZED: no bearer token, or one that is invalid or expired (login: wrong credentials)"],
  403: ["Forbidden", "FORBIDDEN: signed in but not allowed (not an admin, not the org's owner, a disabled account)"],
  404: ["NotFound", "NOT_FOUND: missing, or not the caller's to see"],
  409: [
    "Conflict",
    "Conflict: INVALID_TRANSITION (with `currentStatus`), ALREADY_EXISTS, IDEMPOTENCY_KEY_REUSED, CAPACITY_IN_USE, NO_CAPACITY, DEPENDENCIES_NOT_MET, LAST_ADMIN, POOL_LIMIT",
  ],
  413: ["PayloadTooLarge", "PAYLOAD_TOO_LARGE: the body exceeds 64 KiB"],
  429: [
    "TooManyRequests",
    "TOO_MANY_ATTEMPTS (with `retryAfterSeconds`): too many failed logins for the email, or submissions beyond the caller's rate; retry after `Retry-After` seconds",
  ],
  503: [
    "ServiceUnavailable",
    "SERVICE_UNAVAILABLE (storage or the workflow service did not answer in time) or CONTENTION; retry after `Retry-After` seconds",
  ],
};

const ref = (kind: "schemas" | "responses" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });

/** Component schemas of a set of named zod schemas, with refs between them; `io` picks the input side (requests) or the output side (responses). */
function components(schemas: Record<string, z.ZodType>, io: "input" | "output"): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  // Each is a component of the document, not a document of its own.
  return Object.fromEntries(Object.entries(out).map(([id, { $id: _, ...schema }]) => [id, withoutDialect(schema)]));
}

const withoutDialect = ({ $schema: _, ...schema }: Record<string, unknown>) => schema;

/** The query parameters of a route from the object schema core parses them with. */
function queryParameters(schema: z.ZodObject) {
  const { properties = {}, required = [] } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => ({ name, in: "query", required: required.includes(name), schema: property }));
}

function operation(key: string, route: RouteDoc) {
  const path = key.split(" ")[1]!;
  const parameters: unknown[] = [];
  for (const [, name] of path.matchAll(/:(\w+)/g))
    parameters.push({ name, in: "path", required: true, schema: { type: "string" }, description: "A ULID" });
  if (route.query) parameters.push(...queryParameters(route.query));
  if (route.idempotencyKey) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "A retry with the same key (within 24 h) returns the job the first request created instead of a second one",
      schema: withoutDialect(z.toJSONSchema(IdempotencyKeySchema, { io: "input" })),
    });
  }

  // Signed-in routes re-read the account (401 when it is gone, 403 when disabled) and so need storage.
  const errors = new Set<ErrorStatus>(route.errors);
  if (route.access !== "public") for (const s of [401, 403, 503] as ErrorStatus[]) errors.add(s);
  if (path.includes(":id")) errors.add(404);
  if (route.body || route.query) errors.add(400);
  if (route.body) errors.add(413);
  if (route.body || route.storage) errors.add(503);

  const [status, body] = route.ok;
  const responses: Record<string, unknown> = {
    [status]:
      typeof body === "string"
        ? { description: `${status === 201 ? "Created" : "OK"}: ${body}`, content: json(ref("schemas", body)) }
        : body,
  };
  if (route.alsoOk) responses[route.alsoOk[0]] = { description: route.alsoOk[1], content: json(ref("schemas", body as string)) };
  for (const s of [...errors].sort()) responses[s] = ref("responses", ERRORS[s][0]);
  if (key === "GET /health") {
    // Health answers its own body with the error beside it.
    responses[503] = {
      description: "The table does not answer",
      headers: { "Retry-After": ref("headers", "RetryAfter") },
      content: json({
        allOf: [ref("schemas", "Error"), { type: "object", properties: { status: { const: "unavailable" } }, required: ["status"] }],
      }),
    };
  }

  return {
    tags: [route.tag],
    summary: route.summary,
    operationId: operationId(key),
    ...(route.access === "public" ? { security: [] } : {}),
    ...(route.access === "admin" ? { description: "Admins only." } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: !route.optionalBody, content: json(ref("schemas", route.body)) } } : {}),
    responses,
  };
}

/** "POST /api/v1/admin/jobs/:id/approve" → "postAdminJobsIdApprove". */
const operationId = (key: string) =>
  key
    .replace("/api/v1", "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1)))
    .join("");

/** Hono's `/jobs/:id` as OpenAPI's `/jobs/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/** The whole document. */
export function buildOpenApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, route] of Object.entries(ROUTES)) {
    const [method, path] = key.split(" ") as [string, string];
    paths[openApiPath(path)] ??= {};
    paths[openApiPath(path)]![method.toLowerCase()] = operation(key, route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "GPU-as-a-Service API",
      version: "1.0.0",
      description:
        "Submit GPU jobs against monthly GPU-hour quotas; admins approve, start and manage capacity. " +
        "Sign in with `POST /api/v1/auth/login` and send its `accessToken` as `Authorization: Bearer <token>`. " +
        'Every error is `{"error":{"code","message",...}}`.',
    },
    tags: ["Service", "Auth", "Jobs", "Admin", "Costs", "Catalog", "Orgs", "Clusters"].map((name) => ({ name })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The accessToken from POST /api/v1/auth/login" },
      },
      headers: { RetryAfter: { description: "Seconds to wait before retrying", schema: { type: "integer" } } },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([status, [name, description]]) => [
          name,
          {
            description,
            ...(status === "503" || status === "429" ? { headers: { "Retry-After": ref("headers", "RetryAfter") } } : {}),
            content: json(ref("schemas", "Error")),
          },
        ]),
      ),
      schemas: { ...components(REQUESTS, "input"), ...components(responseSchemas(), "output") },
    },
  };
}
