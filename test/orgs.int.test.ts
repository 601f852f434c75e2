/** Organizations over HTTP: create (unique names in any case), join by invite code, rotate it,
 * members, and jobs submitted in an org (membership checked in the transaction, org owners read
 * them, dependsOn across org-mates). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  ctx = await testApp({ DEFAULT_MONTHLY_GPU_HOURS: "1000" });
});
afterAll(() => ctx.engine.shutdown());

let counter = 0;
const uniqueName = (prefix = "Team") => `${prefix} ${Date.now()} ${counter++}`;

async function createOrg(token: string, name = uniqueName()) {
  const res = await call(ctx.app, "POST", "/api/v1/orgs", { token, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; role: string; inviteCode: string };
}
const join = (token: string, inviteCode: string) => call(ctx.app, "POST", "/api/v1/orgs/join", { token, body: { inviteCode } });
const members = (token: string, orgId: string) => call(ctx.app, "GET", `/api/v1/orgs/${orgId}/members`, { token });

describe("creating an org", () => {
  it("makes the creator its owner and shows the invite code to them", async () => {
    const owner = await signUp(ctx.app);
    const org = await createOrg(owner.token, uniqueName("Vision Lab"));
    expect(org).toMatchObject({ role: "owner", createdBy: owner.id, inviteCode: expect.stringMatching(/^[\w-]{22}$/) });

    const mine = await call(ctx.app, "GET", "/api/v1/orgs", { token: owner.token });
    expect(mine.body.items).toEqual([expect.objectContaining({ id: org.id, role: "owner", inviteCode: org.inviteCode })]);
    expect((await members(owner.token, org.id)).body.items).toEqual([
      { userId: owner.id, role: "owner", joinedAt: expect.any(String), email: owner.email, fullName: "Test User" },
    ]);
  });

  it("refuses a name already taken in another letter case with 409, writing nothing", async () => {
    const [a, b] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const name = uniqueName("Deep Learning");
    await createOrg(a.token, name);
    const before = await readTable(ctx.core.db);
    const res = await call(ctx.app, "POST", "/api/v1/orgs", { token: b.token, body: { name: `  ${name.toUpperCase()} ` } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("ALREADY_EXISTS");
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("lets only one of many concurrent creations of one name win", async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => signUp(ctx.app)));
    const name = uniqueName("Race");
    const results = await Promise.all(
      users.map((u, i) => call(ctx.app, "POST", "/api/v1/orgs", { token: u.token, body: { name: i % 2 ? name.toLowerCase() : name } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
  });

  it("validates the name", async () => {
    const user = await signUp(ctx.app);
    for (const body of [
      {},
      { name: "" },
      { name: "x" },
      { name: "a".repeat(65) },
      { name: 42 },
      { name: "ok name", extra: 1 },
      { name: "tab\tname" },
    ]) {
      const res = await call(ctx.app, "POST", "/api/v1/orgs", { token: user.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("joining and invite codes", () => {
  it("joins with the code as a member; joining twice is harmless", async () => {
    const [owner, member] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);

    const first = await join(member.token, org.inviteCode);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: org.id, role: "member" });
    expect(first.body.inviteCode).toBeUndefined();

    const before = await readTable(ctx.core.db);
    const again = await join(member.token, org.inviteCode);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: org.id, role: "member" });
    expect(await readTable(ctx.core.db)).toEqual(before);
    // The owner joining with their own code stays the owner.
    expect((await join(owner.token, org.inviteCode)).body.role).toBe("owner");

    const list = (await members(member.token, org.id)).body.items;
    expect(list).toHaveLength(2);
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ userId: member.id, role: "member" })]));
    const mine = await call(ctx.app, "GET", "/api/v1/orgs", { token: member.token });
    expect(mine.body.items).toEqual([expect.objectContaining({ id: org.id, role: "member" })]);
    expect(mine.body.items[0]).not.toHaveProperty("inviteCode");
  });

  it("concurrent joins by one user leave one membership", async () => {
    const [owner, member] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    const results = await Promise.all(Array.from({ length: 5 }, () => join(member.token, org.inviteCode)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await members(owner.token, org.id)).body.items).toHaveLength(2);
  });

  it("a wrong code is 404, whatever its shape, and writes nothing", async () => {
    const user = await signUp(ctx.app);
    const before = await readTable(ctx.core.db);
    for (const code of ["A".repeat(22), "WRONG123", "x", "not a code at all", "A".repeat(256)]) {
      const res = await join(user.token, code);
      expect(res.status, code).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    // Not text at all is bad input.
    for (const code of ["", "   ", 42, null, "A".repeat(257)])
      expect((await join(user.token, code as string)).status, String(code)).toBe(400);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("rotating the code makes the old one 404 and the new one work", async () => {
    const [owner, late] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    const rotated = await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/invite-code`, { token: owner.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.inviteCode).not.toBe(org.inviteCode);

    expect((await join(late.token, org.inviteCode)).status).toBe(404);
    expect((await join(late.token, rotated.body.inviteCode)).status).toBe(200);
    const mine = await call(ctx.app, "GET", "/api/v1/orgs", { token: owner.token });
    expect(mine.body.items[0].inviteCode).toBe(rotated.body.inviteCode);
  });

  it("only the owner rotates: a member gets 403, a stranger 404, and the code stays", async () => {
    const [owner, member, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    await join(member.token, org.inviteCode);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/invite-code`, { token: member.token })).status).toBe(403);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/invite-code`, { token: stranger.token })).status).toBe(404);
    expect((await join(stranger.token, org.inviteCode)).status).toBe(200);
  });

  it("members only see the member list; admins see any", async () => {
    const [owner, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const admin = await signUpAdmin(ctx.app, ctx.core);
    const org = await createOrg(owner.token);
    expect((await members(stranger.token, org.id)).status).toBe(404);
    expect((await members(stranger.token, "not-an-id")).status).toBe(404);
    expect((await members(admin.token, org.id)).status).toBe(200);
  });
});

describe("jobs in an org", () => {
  it("a non-member's submission with the orgId is 403 and writes nothing", async () => {
    const [owner, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    const before = await readTable(ctx.core.db);
    const res = await call(ctx.app, "POST", "/api/v1/jobs", { token: stranger.token, body: validJob({ orgId: org.id }) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    // An org that does not exist is answered the same way.
    const missing = await call(ctx.app, "POST", "/api/v1/jobs", {
      token: stranger.token,
      body: validJob({ orgId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }),
    });
    expect(missing.status).toBe(403);
    expect(await readTable(ctx.core.db)).toEqual(before);
  });

  it("the org's owner reads a member's org job and its events; other members and strangers do not", async () => {
    const [owner, member, mate, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app), signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    await join(member.token, org.inviteCode);
    await join(mate.token, org.inviteCode);
    const submitted = await call(ctx.app, "POST", "/api/v1/jobs", { token: member.token, body: validJob({ orgId: org.id }) });
    expect(submitted.status).toBe(201);
    expect(submitted.body.orgId).toBe(org.id);
    const jobId = submitted.body.id;

    const read = await call(ctx.app, "GET", `/api/v1/jobs/${jobId}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(jobId);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${jobId}/events`, { token: owner.token })).status).toBe(200);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${jobId}`, { token: mate.token })).status).toBe(404);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${jobId}`, { token: stranger.token })).status).toBe(404);
    // Reading is not acting: the org owner cannot cancel it.
    expect((await call(ctx.app, "POST", `/api/v1/jobs/${jobId}/cancel`, { token: owner.token })).status).toBe(404);
  });

  it("the org's owner lists the org's jobs, newest first, a page at a time; members cannot", async () => {
    const [owner, member, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app), signUp(ctx.app)]);
    const admin = await signUpAdmin(ctx.app, ctx.core);
    const org = await createOrg(owner.token);
    await join(member.token, org.inviteCode);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await call(ctx.app, "POST", "/api/v1/jobs", {
            token: i % 2 ? owner.token : member.token,
            body: validJob({ orgId: org.id, name: `org-${i}` }),
          })
        ).body.id,
      );
    }
    await call(ctx.app, "POST", "/api/v1/jobs", { token: member.token, body: validJob({ name: "personal" }) });

    const first = await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs?limit=2`, { token: owner.token });
    expect(first.status).toBe(200);
    expect(first.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs?limit=2&cursor=${first.body.nextCursor}`, {
      token: owner.token,
    });
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[0], orgId: org.id })], nextCursor: null });

    expect((await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs`, { token: admin.token })).body.items).toHaveLength(3);
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs`, { token: member.token })).status).toBe(403);
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs`, { token: stranger.token })).status).toBe(404);
    expect((await call(ctx.app, "GET", `/api/v1/orgs/${org.id}/jobs?cursor=nope`, { token: owner.token })).status).toBe(400);
  });

  it("dependsOn may name an org-mate's job in the same org, not one outside it", async () => {
    const [owner, member, stranger] = await Promise.all([signUp(ctx.app), signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    await join(member.token, org.inviteCode);
    const mates = await call(ctx.app, "POST", "/api/v1/jobs", { token: owner.token, body: validJob({ orgId: org.id }) });
    const personal = await call(ctx.app, "POST", "/api/v1/jobs", { token: owner.token, body: validJob() });
    const outsider = await call(ctx.app, "POST", "/api/v1/jobs", { token: stranger.token, body: validJob() });

    const ok = await call(ctx.app, "POST", "/api/v1/jobs", {
      token: member.token,
      body: validJob({ orgId: org.id, dependsOn: [mates.body.id] }),
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.dependsOn).toEqual([mates.body.id]);

    for (const dep of [personal.body.id, outsider.body.id]) {
      const res = await call(ctx.app, "POST", "/api/v1/jobs", { token: member.token, body: validJob({ orgId: org.id, dependsOn: [dep] }) });
      expect(res.status).toBe(404);
    }
    // Outside the org, an org-mate's job is not a dependency either.
    expect(
      (await call(ctx.app, "POST", "/api/v1/jobs", { token: member.token, body: validJob({ dependsOn: [mates.body.id] }) })).status,
    ).toBe(404);
  });
});

describe("removing a member and leaving", () => {
  const pool = { name: "team-pool", provider: "aws", region: "us-east-1", gpuType: "H100", totalGpus: 8, totalCpu: 64, totalRamGb: 512 };

  /** An org with its owner, a member who has a job in it, and the org's private pool. */
  async function teamWithMember() {
    const [owner, member] = await Promise.all([signUp(ctx.app), signUp(ctx.app)]);
    const org = await createOrg(owner.token);
    expect((await join(member.token, org.inviteCode)).status).toBe(200);
    const job = await call(ctx.app, "POST", "/api/v1/jobs", { token: member.token, body: validJob({ orgId: org.id }) });
    expect(job.status).toBe(201);
    const cluster = await call(ctx.app, "POST", `/api/v1/orgs/${org.id}/clusters`, { token: owner.token, body: pool });
    expect(cluster.status).toBe(201);
    return { owner, member, org, jobId: job.body.id as string, clusterId: cluster.body.id as string };
  }

  /** What a (former) member can still do with the org. */
  const access = async (token: string, t: Awaited<ReturnType<typeof teamWithMember>>) => ({
    members: (await members(token, t.org.id)).status,
    listed: (await call(ctx.app, "GET", "/api/v1/orgs", { token })).body.items.some((o: { id: string }) => o.id === t.org.id),
    pool: (await call(ctx.app, "GET", `/api/v1/clusters/${t.clusterId}`, { token })).status,
    submit: (await call(ctx.app, "POST", "/api/v1/jobs", { token, body: validJob({ orgId: t.org.id }) })).status,
  });

  it("the owner removes a member: they are 404 on the org and its pool, and can no longer charge its budget", async () => {
    const t = await teamWithMember();
    expect(await access(t.member.token, t)).toEqual({ members: 200, listed: true, pool: 200, submit: 201 });
    const removed = await call(ctx.app, "DELETE", `/api/v1/orgs/${t.org.id}/members/${t.member.id}`, { token: t.owner.token });
    expect(removed.status).toBe(204);
    expect(await access(t.member.token, t)).toEqual({ members: 404, listed: false, pool: 404, submit: 403 });
    expect((await members(t.owner.token, t.org.id)).body.items.map((m: { userId: string }) => m.userId)).toEqual([t.owner.id]);
    // Their job in the org stays theirs, and the owner still sees it among the org's jobs.
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${t.jobId}`, { token: t.member.token })).status).toBe(200);
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${t.jobId}`, { token: t.owner.token })).status).toBe(200);
    // Removing them again: not a member any more.
    expect((await call(ctx.app, "DELETE", `/api/v1/orgs/${t.org.id}/members/${t.member.id}`, { token: t.owner.token })).status).toBe(404);
    // The removal rotated the invite code: the one they knew no longer lets them back in; the new one does.
    expect((await join(t.member.token, t.org.inviteCode)).status).toBe(404);
    expect((await members(t.member.token, t.org.id)).status).toBe(404);
    const mine = await call(ctx.app, "GET", "/api/v1/orgs", { token: t.owner.token });
    const newCode = mine.body.items.find((o: { id: string }) => o.id === t.org.id).inviteCode as string;
    expect(newCode).not.toBe(t.org.inviteCode);
    expect((await join(t.member.token, newCode)).status).toBe(200);
    expect((await members(t.member.token, t.org.id)).status).toBe(200);
  });

  it("a member leaves on their own, with the same effect; the owner can neither leave nor be removed", async () => {
    const t = await teamWithMember();
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${t.org.id}/leave`, { token: t.member.token })).status).toBe(204);
    expect(await access(t.member.token, t)).toEqual({ members: 404, listed: false, pool: 404, submit: 403 });
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${t.org.id}/leave`, { token: t.member.token })).status).toBe(404);
    // Leaving of their own accord keeps the code: they may come back with it.
    expect((await join(t.member.token, t.org.inviteCode)).status).toBe(200);
    expect((await members(t.member.token, t.org.id)).status).toBe(200);
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${t.org.id}/leave`, { token: t.member.token })).status).toBe(204);

    const ownerLeaves = await call(ctx.app, "POST", `/api/v1/orgs/${t.org.id}/leave`, { token: t.owner.token });
    expect(ownerLeaves.status).toBe(403);
    const ownerRemoved = await call(ctx.app, "DELETE", `/api/v1/orgs/${t.org.id}/members/${t.owner.id}`, { token: t.owner.token });
    expect(ownerRemoved.status).toBe(403);
    expect((await members(t.owner.token, t.org.id)).status).toBe(200);
  });

  it("only the owner removes: a member gets 403, a stranger 404, an admin 403, and nobody is removed", async () => {
    const t = await teamWithMember();
    const [other, stranger, admin] = await Promise.all([signUp(ctx.app), signUp(ctx.app), signUpAdmin(ctx.app, ctx.core)]);
    await join(other.token, t.org.inviteCode);
    const remove = (token: string) => call(ctx.app, "DELETE", `/api/v1/orgs/${t.org.id}/members/${t.member.id}`, { token });
    expect((await remove(other.token)).status).toBe(403);
    expect((await remove(stranger.token)).status).toBe(404);
    expect((await remove(admin.token)).status).toBe(403);
    expect((await members(t.member.token, t.org.id)).status).toBe(200);
  });
});
