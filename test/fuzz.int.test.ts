/** Property-based fuzzing (fast-check) of every route the app serves: thousands of generated
 * requests (odd bodies, headers, tokens, ids, cursors, query strings) must never get a 5xx, every
 * 4xx must carry {error:{code,message}}, and the table must hold exactly what it held before.
 * So only input that must change nothing is generated: every job a caller can reach is closed
 * (COMPLETED, FAILED, REJECTED, CANCELLED), submissions come from accounts whose month opens with
 * 0 GPU-hours, and registration and login bodies are kept only when the core schema refuses them
 * (plus a few well-formed logins with wrong credentials: each costs a password hash). Org routes:
 * no caller owns an org (the fixture org's owner never calls), so rotations and budgets are
 * refused; creations carry refused bodies or a taken name, joins unknown codes. Clusters: the
 * fixture pools are fully allocated, so every resize shrinks below what is allocated (409); pool
 * creations carry refused bodies, a missing org or a GPU type the catalog lacks at the provider. */

import { type Core, generateSigningKey } from "@gpuaas/core";
import {
  ChangePasswordInput,
  CreateClusterInput,
  CreateOrgClusterInput,
  CreateOrgInput,
  FailInput,
  JOB_STATUSES,
  JoinOrgInput,
  LoginInput,
  NoteInput,
  RegisterInput,
  RejectInput,
  SetBudgetInput,
  SetQuotaInput,
  SubmitJobInput,
  UpdateClusterInput,
  UpdateUserInput,
} from "@gpuaas/core/api";
import { createApp } from "@gpuaas/functions";
import fc from "fast-check";
import { importJWK, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import type * as z from "zod";
import { issueAccessToken } from "../packages/core/src/auth/token";
import { takeCapacityItem } from "../packages/core/src/cluster/store";
import { DaySchema } from "../packages/core/src/cost/snapshot";
import { transactWrite } from "../packages/core/src/db/transact";
import type { JobStatus } from "../packages/core/src/job/job";
import { jobShard } from "../packages/core/src/job/keys";
import { readTable } from "./support/audit";
import { engineCore, testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";
import { jobMaker, requestLine, routeKeys } from "./support/routes";

const RUNS_PER_ROUTE = 300;
const CLOSED: JobStatus[] = ["COMPLETED", "FAILED", "REJECTED", "CANCELLED"];

/** Who a token authenticates as: the fixtures' owner, a user without jobs, an admin, and that user claiming (in a
 * token signed with the right key) to be an admin, which the stored role must overrule. */
type Caller = "owner" | "stranger" | "admin" | "strangerClaimingAdmin";

interface World {
  ownerEmail: string;
  ownerId: string;
  /** The owner's jobs, all closed: every lifecycle action on them is refused. */
  jobIds: string[];
  /** Bearer tokens that authenticate; the stranger and the admin never opened a month, so theirs opens with 0 GPU-hours. */
  tokens: Record<Caller, string>;
  /** Tokens that must never authenticate. */
  badTokens: string[];
  /** Cursors the list routes handed out. */
  cursors: string[];
  /** The fixture org: the owner is a member, its own owner never calls. */
  orgIds: string[];
  orgName: string;
  /** A shared pool and a private pool of the fixture org, each with everything allocated. */
  clusterIds: string[];
}

// ---- scalar generators ------------------------------------------------------------------------

const latin1 = fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code));
/** Anything a header can carry. */
const headerValue = fc.string({ unit: latin1, maxLength: 300 });
const oddNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, -1, 5e-324, 0.0004, 0.0005, 0.001, 0.0015, 719.9995, 720, 720.0001, 2 ** 53 + 1, 1e21),
);
const anyValue = fc.oneof(fc.jsonValue({ stringUnit: "binary" }), oddNumber, fc.string({ unit: "grapheme", maxLength: 300 }));
const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "role", "isAdmin"];
const fieldName = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ unit: "binary", maxLength: 20 }));
const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

// ---- bodies -----------------------------------------------------------------------------------

/** Object text from entries, so keys that object literals would swallow (__proto__, repeats) stay. */
const objectText = (entries: [string, unknown][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

/** The valid body, or it with one field removed, one unknown (or repeated) field added, or one field replaced by anything. */
function nearValid(seed: Record<string, unknown>) {
  const entries = Object.entries(seed);
  const fields = Object.keys(seed);
  return fc
    .oneof(
      fc.constant(entries),
      fc.constantFrom(...fields).map((field) => entries.filter(([k]) => k !== field)),
      fc.tuple(fieldName, anyValue).map(([k, v]): [string, unknown][] => [...entries, [k, v]]),
      fc
        .tuple(fc.constantFrom(...fields), anyValue)
        .map(([field, v]) => entries.map(([k, old]): [string, unknown] => [k, k === field ? v : old])),
    )
    .map(objectText);
}

/** Nested 1 to 20 000 levels deep: up to about twice the body limit. */
const deepBody = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom(["[", "]"], ['{"a":', "}"]))
  .map(([depth, [open, close]]) => `${open.repeat(depth)}1${close.repeat(depth)}`);

/** The seed with one field blown up to just under or over the 64 KiB body limit, in 1-, 2- or 4-byte characters. */
const hugeBody = (seed: Record<string, unknown>) =>
  fc
    .tuple(fc.constantFrom(...Object.keys(seed)), fc.integer({ min: 64_000, max: 67_000 }), fc.constantFrom("x", "é", "💥"))
    .map(([field, bytes, ch]) => objectText([...Object.entries(seed), [field, ch.repeat(Math.ceil(bytes / Buffer.byteLength(ch)))]]));

const NOT_JSON = [
  "{",
  "[1,",
  "nul",
  "undefined",
  "NaN",
  "Infinity",
  "{'a':1}",
  "1e999",
  "-",
  '"open',
  '{"a":}',
  "\u0000",
  "{}}",
  '{"a":1}x',
  "\uFEFF{",
];
const EMPTYISH = ["", " ", "\n\t ", "null", "{}", "[]", "0", "true", '""'];

/** Request body text (undefined: no body) around a valid `seed`. */
const bodies = (seed: Record<string, unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: nearValid(seed) },
    { weight: 2, arbitrary: fc.jsonValue({ stringUnit: "binary" }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...NOT_JSON), fc.string({ unit: "binary" })) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, ...EMPTYISH) },
    { weight: 1, arbitrary: fc.oneof(deepBody, hugeBody(seed)) },
  );

/** Whether the app would receive `text` as a body `schema` accepts (the body is sent as UTF-8, and read back without a BOM). */
function accepted(schema: z.ZodType, text: string | undefined) {
  if (text === undefined) return false;
  try {
    return schema.safeParse(JSON.parse(new TextDecoder().decode(new TextEncoder().encode(text)))).success;
  } catch {
    return false;
  }
}
const refusedBy = (schema: z.ZodType) => (text: string | undefined) => !accepted(schema, text);

// ---- headers ----------------------------------------------------------------------------------

const bearer = (token: string) => `Bearer ${token}`;

/** Callers' tokens, `weights` saying how often each caller appears. */
const callers = (w: World, weights: Partial<Record<Caller, number>>) =>
  fc.oneof(...Object.entries(weights).map(([caller, weight]) => ({ weight, arbitrary: fc.constant(w.tokens[caller as Caller]) })));

function authorization(tokens: fc.Arbitrary<string>, badTokens: string[]) {
  const tampered = fc
    .tuple(tokens, fc.nat(), fc.constantFrom(..."Aa0-_."))
    .map(([t, i, ch]) => t.slice(0, i % t.length) + ch + t.slice((i % t.length) + 1));
  return fc.oneof(
    { weight: 20, arbitrary: tokens.map(bearer) },
    { weight: 2, arbitrary: fc.constantFrom(...badTokens).map(bearer) },
    { weight: 1, arbitrary: tampered.map(bearer) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("Bearer", "Bearer ", "bearer  x", "BEARER x", "Bearer a.b.c", "Bearer x y", "Basic dXNlcjpwYXNz"),
    },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: headerValue.map(bearer) },
  );
}

const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "*/*",
    "",
  ),
  headerValue,
);

const idempotencyKey = fc.oneof(
  { weight: 3, arbitrary: fc.ulid() },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: headerValue },
  { weight: 1, arbitrary: fc.constantFrom("", "a b", "#", "IDEMPOTENCY#x", "x".repeat(255), "x".repeat(256)) },
);

const headers = (tokens: fc.Arbitrary<string>, badTokens: string[]) =>
  fc
    .record({
      authorization: fc.option(authorization(tokens, badTokens), { freq: 10, nil: undefined }),
      "content-type": fc.option(contentType, { freq: 3, nil: undefined }),
      "idempotency-key": fc.option(idempotencyKey, { freq: 2, nil: undefined }),
      "x-request-id": fc.option(headerValue, { freq: 2, nil: undefined }),
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);

// ---- path ids and query strings ---------------------------------------------------------------

const percentEncodeAll = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
const ODD_SEGMENTS = [
  "",
  ".",
  "..",
  "%",
  "%zz",
  "%00",
  "%2F",
  "%2e%2e",
  "..%2F..",
  "%252F",
  "a/b",
  "%E0%A4%A",
  "%C0%AE",
  "~",
  "*",
  "null",
  "__proto__",
];

/** A path segment for `:id`: real (closed) jobs (or `ids`), missing ULIDs, and everything that is not an id. */
const pathIds = (w: World, ids = w.jobIds) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: fc.ulid() },
    { weight: 1, arbitrary: fc.constantFrom(...ids).map(percentEncodeAll) },
    { weight: 1, arbitrary: fc.constantFrom(...ids).map((id) => id.toLowerCase()) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer({ min: 27, max: 8_000 }).map((n) => "0".repeat(n)) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
  );

const param = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.tuple(name, value).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
const RAW_QUERY_PARTS = [
  "status",
  "limit=",
  "=",
  "&",
  "cursor=%ZZ",
  "limit=%",
  "status[]=PENDING",
  "__proto__=1",
  "constructor[prototype]=x",
  "a=%00",
];
/** Up to 5 parameters (repeats allowed) from `known`, unknown names and raw oddities. */
const queryString = (...known: fc.Arbitrary<string>[]) =>
  fc
    .array(fc.oneof(...known, param(fc.string(), fc.string()), fc.constantFrom(...RAW_QUERY_PARTS)), { maxLength: 5 })
    .map((p) => p.join("&"));

const statusValue = fc.oneof(
  fc.constantFrom(...JOB_STATUSES),
  fc.constantFrom(...JOB_STATUSES).map((s) => s.toLowerCase()),
  fc.constantFrom("", "ALL", "PENDING,RUNNING", "__proto__"),
  fc.string(),
);
const limitValue = fc.oneof(
  fc.integer({ min: -5, max: 150 }).map(String),
  fc.constantFrom("", "0", "1.5", "1e2", "0x10", " 5", "+5", "-0", "NaN", "Infinity", "9".repeat(400), "٣"),
  fc.string(),
);

/** Cursors: random text, base64url of random JSON, of both cursor shapes filled wrongly (and rightly), real and truncated ones. */
function cursorValue(w: World) {
  const shardKey = fc.oneof(
    fc.integer({ min: -2, max: 20 }).map(String),
    fc.constantFrom("01", "00", "1.0", "1e1", " 1", "0x1", "__proto__"),
    fc.string({ maxLength: 4 }),
  );
  const idish = fc.oneof(fc.ulid(), fc.constantFrom(...w.jobIds), anyValue);
  return fc.oneof(
    fc.string({ unit: "binary" }),
    fc.jsonValue().map(base64Json),
    fc.record({ after: idish }).map(base64Json),
    fc.dictionary(shardKey, fc.oneof(fc.constant("done"), idish), { maxKeys: 20 }).map((positions) => base64Json({ positions })),
    fc.constantFrom(...w.jobIds).map((id) => base64Json({ positions: { [jobShard(id)]: id } })),
    fc.constantFrom(...w.cursors),
    fc.tuple(fc.constantFrom(...w.cursors), fc.nat()).map(([c, n]) => c.slice(0, n % c.length)),
    fc.integer({ min: 2_000, max: 5_000 }).map((n) => "A".repeat(n)),
  );
}

const listQuery = (w: World) =>
  queryString(
    param(fc.constant("status"), statusValue),
    param(fc.constant("limit"), limitValue),
    param(fc.constant("cursor"), cursorValue(w)),
  );

// ---- cost queries ------------------------------------------------------------------------------

const ODD_DAYS = [
  "2026-02-30",
  "2026-13-01",
  "2026-00-10",
  "0000-00-00",
  "2026-1-1",
  " 2026-01-01",
  "2026-01-01 ",
  "2026-01-01T00:00Z",
  "20260101",
  "+2026-01-01",
  "9999-99-99",
  "2026-01-01,2026-01-02",
  "__proto__",
  "today",
  "-1",
];
/** Days: real ones close together (so admins' reports stay small), a few far apart, and anything else. */
const dayValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.integer({ min: 0, max: 60 }).map((n) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: -800, max: 800 }).map((n) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10)),
  },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_DAYS) },
  { weight: 1, arbitrary: fc.string() },
);
const groupByValue = fc.oneof(fc.constantFrom("provider", "gpuType", "org", "day", "Provider", "user", "", "provider,day"), fc.string());
const costsQuery = queryString(
  param(fc.constant("from"), dayValue),
  param(fc.constant("to"), dayValue),
  param(fc.constant("groupBy"), groupByValue),
);
/** A rollup must change nothing here, so its `date` is always there and never a real day (an admin's is refused as 400). */
const refusedRollupQuery = fc
  .tuple(
    dayValue.filter((d) => d !== "" && !DaySchema.safeParse(d).success),
    queryString(),
  )
  .map(([day, rest]) => [`date=${encodeURIComponent(day)}`, rest].filter(Boolean).join("&"));

// ---- the route table --------------------------------------------------------------------------

/** What varies in one route's requests (default: no id, unknown query parameters, no body); headers are shared. */
interface Parts {
  id?: fc.Arbitrary<string>;
  query?: fc.Arbitrary<string>;
  /** Only for POST and PUT routes: a GET request cannot carry a body. */
  body?: fc.Arbitrary<string | undefined>;
  /** The tokens that authenticate (default: every caller's). */
  tokens?: fc.Arbitrary<string>;
  /** Concrete paths, for a route with a wildcard. */
  path?: fc.Arbitrary<string>;
}

const POOL = { name: "fuzz-pool", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 8, totalCpu: 64, totalRamGb: 512 };
/** Pool bodies the schemas accept and the app still refuses: a GPU type the catalog lacks at the provider. */
const unofferedPool = fc
  .constantFrom(["lambda", "T4"], ["coreweave", "L4"], ["gcp", "A10G"], ["azure", "L4"])
  .map(([provider, gpuType]) => ({ ...POOL, provider, gpuType }));
/** Well-formed resizes that shrink at least one total below what the (fully allocated) fixture pools hold. */
const shrinkingPatch = fc
  .record({
    totalGpus: fc.integer({ min: 1, max: 7 }),
    totalCpu: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
    totalRamGb: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
    draining: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((body) => JSON.stringify(body));

/** A valid body per route that takes one (checked against the core schema), for near-valid bodies. */
const SEEDS: Record<string, { schema: z.ZodType; seed: (w: World) => Record<string, unknown> }> = {
  register: { schema: RegisterInput, seed: () => ({ email: "fuzz@example.com", password: "correct horse battery", fullName: "Fuzz" }) },
  login: { schema: LoginInput, seed: (w) => ({ email: w.ownerEmail, password: "not the password" }) },
  job: {
    schema: SubmitJobInput,
    seed: (w) =>
      validJob({
        dataLocation: "s3://bucket/data",
        sensitive: true,
        cpu: 8,
        ramGb: 32,
        priority: "high",
        dependsOn: [w.jobIds[0]],
        provider: "aws",
        orgId: w.orgIds[0],
      }),
  },
  org: { schema: CreateOrgInput, seed: () => ({ name: "Fuzz Org" }) },
  // A well-formed code no org has: joins with it are 404.
  join: { schema: JoinOrgInput, seed: () => ({ inviteCode: "NoSuchCodeNoSuchCode00" }) },
  budget: { schema: SetBudgetInput, seed: () => ({ monthlyUsd: "100.50" }) },
  note: { schema: NoteInput, seed: () => ({ reason: "because" }) },
  password: { schema: ChangePasswordInput, seed: () => ({ currentPassword: "correct horse battery", newPassword: "a new password 42" }) },
  reject: { schema: RejectInput, seed: () => ({ reason: "because" }) },
  fail: { schema: FailInput, seed: () => ({ errorMessage: "boom" }) },
  quota: { schema: SetQuotaInput, seed: () => ({ limitHours: 12.5 }) },
  userPatch: { schema: UpdateUserInput, seed: () => ({ role: "user", active: true }) },
  cluster: { schema: CreateClusterInput, seed: (w) => ({ ...POOL, orgId: w.orgIds[0] }) },
  orgCluster: { schema: CreateOrgClusterInput, seed: () => POOL },
  clusterPatch: { schema: UpdateClusterInput, seed: () => ({ totalGpus: 16, totalCpu: 128, totalRamGb: 1024, draining: true }) },
};
const bodiesFor = (name: keyof typeof SEEDS, w: World) => bodies(SEEDS[name]!.seed(w));

const wellFormedLogin = (w: World) =>
  fc
    .record({ email: fc.oneof(fc.constant(w.ownerEmail), fc.emailAddress()), password: fc.string({ minLength: 1, maxLength: 64 }) })
    .map((body) => JSON.stringify(body));

const everyone = (w: World) => callers(w, { owner: 2, stranger: 1, admin: 1, strangerClaimingAdmin: 1 });
/** Admin routes' handlers are reached only with an admin's token, so admins call them most. */
const mostlyAdmins = (w: World) => callers(w, { admin: 4, owner: 1, strangerClaimingAdmin: 1 });
/** Only accounts whose month opens with 0 GPU-hours submit: a valid submission is refused and writes nothing. */
const quotaLess = (w: World) => callers(w, { stranger: 1, admin: 1, strangerClaimingAdmin: 1 });

/** A body the app reads as present (an action that takes none refuses it). */
const nonEmptyBody = (w: World) => bodiesFor("note", w).filter((text) => text !== undefined && text.trim() !== "");
const userListQuery = (w: World) => queryString(param(fc.constant("limit"), limitValue), param(fc.constant("cursor"), cursorValue(w)));

const ROUTES: Record<string, (w: World) => Parts> = {
  "GET /health": () => ({}),
  "GET /.well-known/jwks.json": () => ({}),
  "GET /": () => ({}),
  // Console files: real ones, ones that are not there, and ways out of the console's folder.
  "GET /console/*": () => ({
    path: fc.oneof(
      fc.constantFrom("/console/app.js", "/console/vendor/lit-html.js", "/console/vendor/nope.js", "/console/", "/console/views/"),
      fc.constantFrom(
        "/console/../package.json",
        "/console/%2e%2e/%2e%2e/package.json",
        "/console/..%2f..%2fpackage.json",
        "/console/vendor/..%2f..%2fsrc%2fassets.ts",
      ),
      fc.string().map((s) => `/console/${encodeURIComponent(s)}`),
      fc.array(fc.stringMatching(/^[a-z.%2f]{1,8}$/), { minLength: 1, maxLength: 4 }).map((parts) => `/console/${parts.join("/")}`),
    ),
  }),
  "GET /openapi.json": () => ({}),
  "GET /docs": () => ({}),
  "GET /api/v1/catalog/gpus": () => ({}),
  "POST /api/v1/auth/register": (w) => ({ body: bodiesFor("register", w).filter(refusedBy(RegisterInput)) }),
  "POST /api/v1/auth/login": (w) => ({
    body: fc.oneof(
      { weight: 40, arbitrary: bodiesFor("login", w).filter(refusedBy(LoginInput)) },
      { weight: 1, arbitrary: wellFormedLogin(w) },
    ),
  }),
  "GET /api/v1/me": () => ({}),
  // Any token that authenticates would end its sessions (a change): only refused ones are sent.
  "POST /api/v1/auth/logout": (w) => ({ body: nonEmptyBody(w), tokens: fc.constantFrom(...w.badTokens) }),
  "POST /api/v1/auth/password": (w) => ({ body: bodiesFor("password", w), tokens: fc.constantFrom(...w.badTokens) }),
  "POST /api/v1/jobs": (w) => ({ body: bodiesFor("job", w), tokens: quotaLess(w) }),
  "GET /api/v1/jobs": (w) => ({ query: listQuery(w) }),
  "GET /api/v1/jobs/:id": (w) => ({ id: pathIds(w) }),
  "GET /api/v1/jobs/:id/events": (w) => ({ id: pathIds(w) }),
  "POST /api/v1/jobs/:id/cancel": (w) => ({ id: pathIds(w), body: bodiesFor("note", w) }),
  "GET /api/v1/admin/jobs": (w) => ({ query: listQuery(w), tokens: mostlyAdmins(w) }),
  "GET /api/v1/admin/jobs/:id/workflow": (w) => ({ id: pathIds(w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/admin/jobs/:id/approve": (w) => ({ id: pathIds(w), body: bodiesFor("note", w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/admin/jobs/:id/reject": (w) => ({ id: pathIds(w), body: bodiesFor("reject", w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/admin/jobs/:id/start": (w) => ({ id: pathIds(w), body: bodiesFor("note", w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/admin/jobs/:id/complete": (w) => ({ id: pathIds(w), body: bodiesFor("note", w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/admin/jobs/:id/fail": (w) => ({ id: pathIds(w), body: bodiesFor("fail", w), tokens: mostlyAdmins(w) }),
  "GET /api/v1/costs": () => ({ query: costsQuery }),
  // Only bodies the schema refuses: a valid one from an admin would change an account.
  "PATCH /api/v1/admin/users/:id": (w) => ({
    id: pathIds(w, [w.ownerId]),
    body: bodiesFor("userPatch", w).filter(refusedBy(UpdateUserInput)),
    tokens: mostlyAdmins(w),
  }),
  // The owner is a plain member of the fuzzed org: removing anyone is refused to every caller here.
  "DELETE /api/v1/orgs/:id/members/:userId": (w) => ({
    path: fc.tuple(pathIds(w, w.orgIds), pathIds(w, [w.ownerId, ...w.orgIds])).map(([org, user]) => `/api/v1/orgs/${org}/members/${user}`),
  }),
  // Only callers who are not members (leaving would succeed for the owner).
  "POST /api/v1/orgs/:id/leave": (w) => ({
    id: pathIds(w, w.orgIds),
    tokens: callers(w, { stranger: 1, admin: 1, strangerClaimingAdmin: 1 }),
  }),
  "POST /api/v1/admin/costs/rollup": (w) => ({ query: refusedRollupQuery, body: bodiesFor("note", w), tokens: mostlyAdmins(w) }),
  "GET /api/v1/admin/costs/snapshots": (w) => ({ query: queryString(param(fc.constant("date"), dayValue)), tokens: mostlyAdmins(w) }),
  "GET /api/v1/admin/users": (w) => ({ query: userListQuery(w), tokens: mostlyAdmins(w) }),
  "GET /api/v1/admin/audit": (w) => ({ query: userListQuery(w), tokens: mostlyAdmins(w) }),
  // No path id names a user (they are job ids, fresh ULIDs or junk), so even a valid body is refused.
  "PUT /api/v1/admin/users/:id/quota": (w) => ({ id: pathIds(w), body: bodiesFor("quota", w), tokens: mostlyAdmins(w) }),
  // Run by an admin without a body it would open this month for everyone: every request here carries
  // a body (which it takes none of), so admins get 400 and everyone else 401/403.
  "POST /api/v1/admin/quotas/reset": (w) => ({ body: nonEmptyBody(w), tokens: mostlyAdmins(w) }),
  "POST /api/v1/orgs": (w) => ({
    body: fc.oneof(
      { weight: 10, arbitrary: bodiesFor("org", w).filter(refusedBy(CreateOrgInput)) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(w.orgName.toUpperCase(), w.orgName.toLowerCase(), ` ${w.orgName} `)
          .map((name) => JSON.stringify({ name })),
      },
    ),
  }),
  "GET /api/v1/orgs": () => ({}),
  "POST /api/v1/orgs/join": (w) => ({
    body: fc.oneof(
      { weight: 4, arbitrary: bodiesFor("join", w) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/).map((inviteCode) => JSON.stringify({ inviteCode })) },
    ),
  }),
  "GET /api/v1/orgs/:id/members": (w) => ({ id: pathIds(w, w.orgIds) }),
  "POST /api/v1/orgs/:id/invite-code": (w) => ({ id: pathIds(w, w.orgIds), body: bodiesFor("note", w) }),
  "PUT /api/v1/orgs/:id/budget": (w) => ({ id: pathIds(w, w.orgIds), body: bodiesFor("budget", w) }),
  "GET /api/v1/orgs/:id/alerts": (w) => ({ id: pathIds(w, w.orgIds) }),
  "GET /api/v1/orgs/:id/jobs": (w) => ({
    id: pathIds(w, w.orgIds),
    query: listQuery(w),
    tokens: callers(w, { admin: 3, owner: 1, stranger: 1 }),
  }),
  "POST /api/v1/admin/clusters": (w) => ({
    body: fc.oneof(
      { weight: 8, arbitrary: bodiesFor("cluster", w).filter(refusedBy(CreateClusterInput)) },
      { weight: 1, arbitrary: unofferedPool.map((body) => JSON.stringify(body)) },
      // A well-formed org id no org has: 404.
      { weight: 1, arbitrary: fc.ulid().map((orgId) => JSON.stringify({ ...POOL, orgId })) },
    ),
    tokens: mostlyAdmins(w),
  }),
  // The owner is a member (403), the stranger not one (404); admins could create, so no body is one the app takes.
  "POST /api/v1/orgs/:id/clusters": (w) => ({
    id: pathIds(w, w.orgIds),
    body: fc.oneof(
      { weight: 4, arbitrary: bodiesFor("orgCluster", w).filter(refusedBy(CreateOrgClusterInput)) },
      { weight: 1, arbitrary: unofferedPool.map((body) => JSON.stringify(body)) },
    ),
  }),
  "GET /api/v1/clusters": () => ({}),
  "GET /api/v1/clusters/:id": (w) => ({ id: pathIds(w, w.clusterIds) }),
  "GET /api/v1/clusters/:id/queue": (w) => ({ id: pathIds(w, w.clusterIds) }),
  "PATCH /api/v1/clusters/:id": (w) => ({
    id: pathIds(w, w.clusterIds),
    body: fc.oneof(
      { weight: 4, arbitrary: bodiesFor("clusterPatch", w).filter(refusedBy(UpdateClusterInput)) },
      { weight: 1, arbitrary: shrinkingPatch },
    ),
    tokens: callers(w, { admin: 3, owner: 1, stranger: 1, strangerClaimingAdmin: 1 }),
  }),
};

function requests(route: string, w: World) {
  const parts = ROUTES[route]!(w);
  const { method } = requestLine(route);
  return fc
    .record({
      id: parts.id ?? fc.constant(""),
      path: parts.path ?? fc.constant(undefined),
      query: parts.query ?? queryString(),
      body: parts.body ?? fc.constant(undefined),
      headers: headers(parts.tokens ?? everyone(w), w.badTokens),
    })
    .map(({ id, path, query, body, headers }) => ({
      method,
      path: (path ?? requestLine(route, id).path) + (query ? `?${query}` : ""),
      body,
      headers,
    }));
}

// ---- fixtures ---------------------------------------------------------------------------------

let fuzz: ReturnType<typeof engineCore> & { app: ReturnType<typeof createApp> };
let world: World;
let tableBefore: Record<string, unknown>[];

/** Tokens that must not authenticate: expired, other key, issuer or audience, no account, ended session, alg none or HS384, no exp, bad role. */
async function badTokens(core: Core, userId: string, adminId: string) {
  const jwt = core.config.jwt;
  const now = new Date();
  const issued = await Promise.all([
    issueAccessToken(jwt, { userId, role: "user" }, new Date(now.getTime() - 2 * jwt.ttlSeconds * 1000)),
    // Another key under the API's kid, and a key the API does not know.
    issueAccessToken({ ...jwt, signingKey: generateSigningKey(jwt.signingKey!.kid) }, { userId: adminId, role: "admin" }, now),
    issueAccessToken({ ...jwt, signingKey: generateSigningKey("unknown") }, { userId: adminId, role: "admin" }, now),
    issueAccessToken({ ...jwt, issuer: "someone-else" }, { userId: adminId, role: "admin" }, now),
    issueAccessToken({ ...jwt, audience: "another-api" }, { userId: adminId, role: "admin" }, now),
    issueAccessToken(jwt, { userId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", role: "admin" }, now),
    // Issued at a session version the account is not at (as after a logout or a password change).
    issueAccessToken(jwt, { userId: adminId, role: "admin", sessionVersion: 7 }, now),
  ]);
  // The published public key as an HMAC secret (algorithm confusion), and the API's own key.
  const hmac = new TextEncoder().encode(JSON.stringify(jwt.publicKeys[0]));
  const key = await importJWK({ ...jwt.signingKey!, alg: "ES256" }, "ES256");
  const kid = jwt.signingKey!.kid;
  const claims = (role: string) => new SignJWT({ role }).setSubject(adminId).setIssuer(jwt.issuer).setAudience(jwt.audience).setIssuedAt();
  return [
    ...issued.map((t) => t.accessToken),
    new UnsecuredJWT({ role: "admin" })
      .setSubject(adminId)
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setIssuedAt()
      .setExpirationTime("10m")
      .encode(),
    await claims("admin").setProtectedHeader({ alg: "HS384", kid }).setExpirationTime("10m").sign(hmac),
    await claims("admin").setProtectedHeader({ alg: "HS256", kid }).setExpirationTime("10m").sign(hmac),
    await claims("admin").setProtectedHeader({ alg: "ES256", kid }).sign(key),
    await claims("root").setProtectedHeader({ alg: "ES256", kid }).setExpirationTime("10m").sign(key),
  ];
}

beforeAll(async () => {
  // Fixtures on an app whose runs take their time, so RUNNING jobs wait for an admin to end them.
  const fixtures = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600" });
  const [owner, stranger, admin, orgHost] = await Promise.all([
    signUp(fixtures.app),
    signUp(fixtures.app),
    signUpAdmin(fixtures.app, fixtures.core),
    signUp(fixtures.app),
  ]);
  const orgName = `Fuzz Fixture Org ${Date.now()}`;
  const org = (await call(fixtures.app, "POST", "/api/v1/orgs", { token: orgHost.token, body: { name: orgName } })).body;
  await call(fixtures.app, "POST", "/api/v1/orgs/join", { token: owner.token, body: { inviteCode: org.inviteCode } });
  const jobIn = jobMaker(fixtures.app, fixtures.engine, admin.token);
  const jobIds = await Promise.all(CLOSED.map((status) => jobIn(owner.token, status)));
  const clusterIds = await Promise.all(
    [
      call(fixtures.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: POOL }),
      call(fixtures.app, "POST", `/api/v1/orgs/${org.id}/clusters`, { token: orgHost.token, body: POOL }),
    ].map(async (created) => {
      const { id } = (await created).body as { id: string };
      await transactWrite(fixtures.core.db, [
        takeCapacityItem(
          fixtures.core.db,
          id,
          { gpus: POOL.totalGpus, cpu: POOL.totalCpu, ramGb: POOL.totalRamGb },
          new Date().toISOString(),
        ),
      ]);
      return id;
    }),
  );
  // Every reaction to the fixtures (admission passes rewriting the PLAN) has run before the snapshot.
  await fixtures.settle();
  await fixtures.reactor?.stop();
  await fixtures.engine.shutdown();
  const pageCursor = async (path: string, token: string) => (await call(fixtures.app, "GET", path, { token })).body.nextCursor as string;

  // The fuzzed app: the same table, but every month opens with 0 GPU-hours.
  const fuzzed = engineCore({ ...fixtures.core.config, defaultMonthlyGpuHours: 0 });
  fuzz = { ...fuzzed, app: createApp(fuzzed.core) };
  const strangerClaimingAdmin = (await issueAccessToken(fuzzed.core.config.jwt, { userId: stranger.id, role: "admin" }, new Date()))
    .accessToken;
  world = {
    ownerEmail: owner.email,
    ownerId: owner.id,
    jobIds,
    tokens: { owner: owner.token, stranger: stranger.token, admin: admin.token, strangerClaimingAdmin },
    badTokens: await badTokens(fuzzed.core, owner.id, admin.id),
    cursors: [await pageCursor("/api/v1/jobs?limit=1", owner.token), await pageCursor("/api/v1/admin/jobs?limit=1", admin.token)],
    orgIds: [org.id],
    orgName,
    clusterIds,
  };
  tableBefore = await readTable(fuzzed.core.db);
});
afterAll(() => fuzz?.engine.shutdown());

// ---- properties -------------------------------------------------------------------------------

it("has a request generator for every route the app serves, and none for a route it does not", () => {
  const served = routeKeys(fuzz.app);
  const fuzzed = Object.keys(ROUTES);
  expect({
    servedButNotFuzzed: served.filter((route) => !fuzzed.includes(route)),
    fuzzedButNotServed: fuzzed.filter((route) => !served.includes(route)),
  }).toEqual({ servedButNotFuzzed: [], fuzzedButNotServed: [] });
});

it("builds near-valid bodies around bodies the core schemas accept", () => {
  for (const [name, { schema, seed }] of Object.entries(SEEDS)) expect(schema.safeParse(seed(world)).success, name).toBe(true);
});

it.each(Object.keys(ROUTES))("%s: never a 5xx, every 4xx a JSON error, every POST/PUT refused", async (route) => {
  await fc.assert(
    fc.asyncProperty(requests(route, world), async (req) => {
      const res = await call(fuzz.app, req.method, req.path, { headers: req.headers, rawBody: req.body });
      const seen = `${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
      expect(res.status, seen).toBeLessThan(500);
      // Nothing a POST or PUT could change may change, so each one is refused; a success would show here first.
      if (req.method !== "GET") expect(res.status, seen).toBeGreaterThanOrEqual(400);
      if (res.status >= 400) {
        expect(res.body, seen).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
      }
    }),
    { numRuns: RUNS_PER_ROUTE },
  );
});

it("leaves the table exactly as it was (but for the failed logins it counted, which is their point)", async () => {
  const counted = (items: Record<string, unknown>[]) => items.filter((item) => item.type !== "LoginAttempts");
  expect(counted(await readTable(fuzz.core.db))).toEqual(counted(tableBefore));
});
