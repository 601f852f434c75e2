/** Authorization matrix: every route the app serves × every kind of caller, and the status each
 * gets. The table is checked against the app's own route list, so a route added later fails this
 * file until it has a row here. Cells that change a job act on a fresh job in the status the action
 * needs; a refused request must leave its job as it was. */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../packages/core/src/job/job";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, uniqueEmail, validJob } from "./support/http";
import { jobMaker, requestLine, routeKeys } from "./support/routes";

/**
 * The callers: no token, the fixtures' owner, another user, an admin, and the owner of the org the
 * fixtures' owner is a member of (every fixture job is submitted in that org, so its owner reads them).
 */
const ACTORS = ["anonymous", "owner", "other", "admin", "orgOwner"] as const;
type ActorName = (typeof ACTORS)[number];

interface World {
  tokens: Record<ActorName, string | undefined>;
  owner: { id: string; email: string; password: string };
  /** A new job of the owner's in `status`. */
  jobIn: (status: JobStatus) => Promise<string>;
  /** A PENDING job of the owner's, shared by the cells that only read. */
  readJob: string;
  /** The org the owner is a member of and orgOwner owns. */
  orgId: string;
  /** A new org of orgOwner's; returns its invite code. */
  newOrgCode: () => Promise<string>;
  /** A new org of orgOwner's that the owner and a new user (returned) have joined. */
  newOrgWithMembers: () => Promise<{ orgId: string; memberId: string; inviteCode: string }>;
  /** A private pool of that org (orgOwner created it). */
  orgClusterId: string;
}

/** What one cell's request is about: the job in `:id` (and its status before), and the body. */
interface Target {
  job?: { id: string; status: JobStatus };
  /** The `:id` of a route about something other than a job (a user, an org). */
  id?: string;
  body?: unknown;
  /** Query string (without "?"). */
  query?: string;
  /** The concrete path, for a route with a wildcard. */
  path?: string;
  /** Another token of the same kind of caller, for a cell that ends the caller's sessions. */
  token?: string;
}

interface Row {
  expect: Record<ActorName, number>;
  /** The cell's target; rows that change something build a fresh one for every cell. */
  target?: (world: World, actor: ActorName) => Target | Promise<Target>;
}

const sharedJob = (w: World): Target => ({ job: { id: w.readJob, status: "PENDING" } });
const freshJob =
  (status: JobStatus, body?: unknown) =>
  async (w: World): Promise<Target> => ({ job: { id: await w.jobIn(status), status }, body });
const sharedOrg =
  (body?: unknown) =>
  (w: World): Target => ({ id: w.orgId, body });
let orgCounter = 0;
const newOrgName = () => ({ body: { name: `Matrix Org ${Date.now()} ${orgCounter++}` } });
const newOrgInvite = async (w: World): Promise<Target> => ({ body: { inviteCode: await w.newOrgCode() } });
// H100 pools: the fixture jobs are A100s, so no pool governs (or fills up under) their starts.
const newCluster = {
  name: "matrix-pool",
  provider: "aws",
  region: "us-east-1",
  gpuType: "H100",
  totalGpus: 8,
  totalCpu: 64,
  totalRamGb: 512,
};
const orgCluster =
  (body?: unknown) =>
  (w: World): Target => ({ id: w.orgClusterId, body });
/** A cell that ends its caller's sessions (logout, a password change) acts as a new account of the
 * same kind, so the shared tokens keep working for the other cells. */
const ownSession =
  (body?: (password: string) => unknown) =>
  async (_w: World, actor: ActorName): Promise<Target> => {
    if (actor === "anonymous") return { body: body?.("whatever password") };
    const fresh = actor === "admin" ? await signUpAdmin(ctx.app, ctx.core) : await signUp(ctx.app);
    return { token: fresh.token, body: body?.(fresh.password) };
  };
const newAccount = () => ({ body: { email: uniqueEmail("new"), password: "correct horse battery", fullName: "New Account" } });

const cells = (anonymous: number, owner: number, other: number, admin: number, orgOwner: number) => ({
  anonymous,
  owner,
  other,
  admin,
  orgOwner,
});

// One row per route: the status each actor gets, in ACTORS order (anonymous, owner, other, admin, orgOwner).
// Someone else's job is reported as missing (404), never as forbidden; so is an org one is not a member of.
// The org owner reads its members' org jobs but acts on none of them.
const MATRIX: Record<string, Row> = {
  "GET /health": { expect: cells(200, 200, 200, 200, 200) },
  "GET /.well-known/jwks.json": { expect: cells(200, 200, 200, 200, 200) },
  // The web console's page and files are public: the data they show comes from the API, with its own checks.
  "GET /": { expect: cells(200, 200, 200, 200, 200) },
  "GET /console/*": { expect: cells(200, 200, 200, 200, 200), target: () => ({ path: "/console/app.js" }) },
  "GET /openapi.json": { expect: cells(200, 200, 200, 200, 200) },
  "GET /docs": { expect: cells(200, 200, 200, 200, 200) },
  "GET /api/v1/catalog/gpus": { expect: cells(200, 200, 200, 200, 200) },
  "POST /api/v1/auth/register": { expect: cells(201, 201, 201, 201, 201), target: newAccount },
  "POST /api/v1/auth/login": {
    expect: cells(200, 200, 200, 200, 200),
    target: (w) => ({ body: { email: w.owner.email, password: w.owner.password } }),
  },
  "GET /api/v1/me": { expect: cells(401, 200, 200, 200, 200) },
  "POST /api/v1/auth/logout": { expect: cells(401, 204, 204, 204, 204), target: ownSession() },
  "POST /api/v1/auth/password": {
    expect: cells(401, 200, 200, 200, 200),
    target: ownSession((password) => ({ currentPassword: password, newPassword: "a new password 42" })),
  },
  "POST /api/v1/jobs": { expect: cells(401, 201, 201, 201, 201), target: () => ({ body: validJob() }) },
  "GET /api/v1/jobs": { expect: cells(401, 200, 200, 200, 200) },
  "GET /api/v1/jobs/:id": { expect: cells(401, 200, 404, 200, 200), target: sharedJob },
  "GET /api/v1/jobs/:id/events": { expect: cells(401, 200, 404, 200, 200), target: sharedJob },
  "POST /api/v1/jobs/:id/cancel": { expect: cells(401, 200, 404, 200, 404), target: freshJob("PENDING") },
  "GET /api/v1/admin/jobs": { expect: cells(401, 403, 403, 200, 403) },
  "GET /api/v1/admin/jobs/:id/workflow": { expect: cells(401, 403, 403, 200, 403), target: sharedJob },
  "POST /api/v1/admin/jobs/:id/approve": { expect: cells(401, 403, 403, 200, 403), target: freshJob("PENDING") },
  "POST /api/v1/admin/jobs/:id/reject": { expect: cells(401, 403, 403, 200, 403), target: freshJob("PENDING", { reason: "not now" }) },
  "POST /api/v1/admin/jobs/:id/start": { expect: cells(401, 403, 403, 200, 403), target: freshJob("APPROVED") },
  "POST /api/v1/admin/jobs/:id/complete": { expect: cells(401, 403, 403, 200, 403), target: freshJob("RUNNING") },
  "POST /api/v1/admin/jobs/:id/fail": {
    expect: cells(401, 403, 403, 200, 403),
    target: freshJob("RUNNING", { errorMessage: "node lost" }),
  },
  "POST /api/v1/orgs": { expect: cells(401, 201, 201, 201, 201), target: newOrgName },
  "GET /api/v1/orgs": { expect: cells(401, 200, 200, 200, 200) },
  "POST /api/v1/orgs/join": { expect: cells(401, 200, 200, 200, 200), target: newOrgInvite },
  "GET /api/v1/orgs/:id/members": { expect: cells(401, 200, 404, 200, 200), target: sharedOrg() },
  // Removing a member: the org's owner only (an admin owns no org here); on a new org each time.
  "DELETE /api/v1/orgs/:id/members/:userId": {
    expect: cells(401, 403, 404, 403, 204),
    target: async (w) => {
      const { orgId, memberId } = await w.newOrgWithMembers();
      return { path: `/api/v1/orgs/${orgId}/members/${memberId}` };
    },
  },
  // Leaving: a member may (the owner is one of the new org); its owner may not.
  "POST /api/v1/orgs/:id/leave": {
    expect: cells(401, 204, 404, 404, 403),
    target: async (w) => ({ id: (await w.newOrgWithMembers()).orgId }),
  },
  "POST /api/v1/orgs/:id/invite-code": { expect: cells(401, 403, 404, 403, 200), target: sharedOrg() },
  "PUT /api/v1/orgs/:id/budget": { expect: cells(401, 403, 404, 403, 200), target: sharedOrg({ monthlyUsd: "100000" }) },
  "GET /api/v1/orgs/:id/alerts": { expect: cells(401, 403, 404, 200, 200), target: sharedOrg() },
  "GET /api/v1/orgs/:id/jobs": { expect: cells(401, 403, 404, 200, 200), target: sharedOrg() },
  "GET /api/v1/costs": {
    expect: cells(401, 200, 200, 200, 200),
    target: () => ({ query: "from=2026-01-01&to=2026-12-31&groupBy=provider" }),
  },
  "POST /api/v1/admin/costs/rollup": { expect: cells(401, 403, 403, 200, 403), target: () => ({ query: "date=2026-01-01" }) },
  "GET /api/v1/admin/costs/snapshots": { expect: cells(401, 403, 403, 200, 403), target: () => ({ query: "date=2026-01-01" }) },
  "GET /api/v1/admin/users": { expect: cells(401, 403, 403, 200, 403) },
  "GET /api/v1/admin/audit": { expect: cells(401, 403, 403, 200, 403) },
  // The owner's limit is set to what it already is (this file's default), so other cells are unaffected.
  // Enabling an account that is already active: changes nothing other cells see.
  "PATCH /api/v1/admin/users/:id": {
    expect: cells(401, 403, 403, 200, 403),
    target: async () => ({ id: (await signUp(ctx.app)).id, body: { active: true } }),
  },
  "PUT /api/v1/admin/users/:id/quota": {
    expect: cells(401, 403, 403, 200, 403),
    target: (w) => ({ id: w.owner.id, body: { limitHours: 1000 } }),
  },
  "POST /api/v1/admin/quotas/reset": { expect: cells(401, 403, 403, 200, 403) },
  "POST /api/v1/admin/clusters": { expect: cells(401, 403, 403, 201, 403), target: () => ({ body: newCluster }) },
  // Private pools: created by the org's owner (or an admin), seen by its members, changed by its owner (or an admin).
  "POST /api/v1/orgs/:id/clusters": { expect: cells(401, 403, 404, 201, 201), target: sharedOrg(newCluster) },
  "GET /api/v1/clusters": { expect: cells(401, 200, 200, 200, 200) },
  "GET /api/v1/clusters/:id": { expect: cells(401, 200, 404, 200, 200), target: orgCluster() },
  "PATCH /api/v1/clusters/:id": { expect: cells(401, 403, 404, 200, 200), target: orgCluster({ draining: false }) },
  // The queue: visibility as GET /clusters/:id (a private pool's org members and admins).
  "GET /api/v1/clusters/:id/queue": { expect: cells(401, 200, 404, 200, 200), target: orgCluster() },
};

let ctx: Awaited<ReturnType<typeof testApp>>;
let world: World;

beforeAll(async () => {
  // Runs last an hour per GPU-hour, so RUNNING fixtures stay running; quota is no concern here.
  ctx = await testApp({ SIMULATION_SECONDS_PER_HOUR: "3600", DEFAULT_MONTHLY_GPU_HOURS: "1000" });
  const [owner, other, admin, orgOwner] = await Promise.all([
    signUp(ctx.app),
    signUp(ctx.app),
    signUpAdmin(ctx.app, ctx.core),
    signUp(ctx.app),
  ]);
  const newOrg = async () => {
    const res = await call(ctx.app, "POST", "/api/v1/orgs", { token: orgOwner.token, ...newOrgName() });
    return res.body as { id: string; inviteCode: string };
  };
  const org = await newOrg();
  await call(ctx.app, "POST", "/api/v1/orgs/join", { token: owner.token, body: { inviteCode: org.inviteCode } });
  const jobIn = jobMaker(ctx.app, ctx.engine, admin.token);
  const orgCluster = await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/clusters`, { token: orgOwner.token, body: newCluster });
  world = {
    tokens: { anonymous: undefined, owner: owner.token, other: other.token, admin: admin.token, orgOwner: orgOwner.token },
    owner: { id: owner.id, email: owner.email, password: owner.password },
    jobIn: (status) => jobIn(owner.token, status, { orgId: org.id }),
    readJob: await jobIn(owner.token, "PENDING", { orgId: org.id }),
    orgId: org.id,
    newOrgCode: async () => (await newOrg()).inviteCode,
    newOrgWithMembers: async () => {
      const created = await newOrg();
      const member = await signUp(ctx.app);
      for (const token of [owner.token, member.token])
        await call(ctx.app, "POST", "/api/v1/orgs/join", { token, body: { inviteCode: created.inviteCode } });
      return { orgId: created.id, memberId: member.id, inviteCode: created.inviteCode };
    },
    orgClusterId: orgCluster.body.id,
  };
});
afterAll(() => ctx.engine.shutdown());

const statusOf = async (jobId: string) => (await call(ctx.app, "GET", `/api/v1/jobs/${jobId}`, { token: world.tokens.admin })).body.status;

it("has exactly one row per route the app serves, with a status for every actor", () => {
  const served = routeKeys(ctx.app);
  const listed = Object.keys(MATRIX);
  expect({
    servedButNotInMatrix: served.filter((route) => !listed.includes(route)),
    inMatrixButNotServed: listed.filter((route) => !served.includes(route)),
  }).toEqual({ servedButNotInMatrix: [], inMatrixButNotServed: [] });
  for (const row of Object.values(MATRIX)) expect(Object.keys(row.expect).sort()).toEqual([...ACTORS].sort());
});

describe.each(Object.entries(MATRIX))("%s", (route, row) => {
  it.each(ACTORS.map((actor) => [actor, row.expect[actor]] as const))("as %s → %i", async (actor, expected) => {
    const target = (await row.target?.(world, actor)) ?? {};
    const { method, path: routePath } = requestLine(route, target.job?.id ?? target.id);
    const path = target.path ?? routePath;
    const res = await call(ctx.app, method, target.query ? `${path}?${target.query}` : path, {
      token: target.token ?? world.tokens[actor],
      body: target.body,
    });

    expect(res.status, JSON.stringify(res.body)).toBe(expected);
    if (res.status >= 400) {
      expect(res.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
      if (target.job) expect(await statusOf(target.job.id)).toBe(target.job.status);
    }
  });
});
