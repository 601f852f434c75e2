/** MAX_ORGS_PER_USER over HTTP against DynamoDB Local: the orgs a user belongs to (created or
 * joined) are counted on the account in the same transaction; past the limit a creation or a join
 * is 409 MEMBERSHIP_LIMIT and writes nothing, racing joins cannot pass it, and leaving or being
 * removed gives the place back. */

import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userKeys } from "../packages/core/src/user/keys";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp } from "./support/http";

const LIMIT = 3;
let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  ctx = await testApp({ MAX_ORGS_PER_USER: String(LIMIT) });
});
afterAll(() => ctx.engine.shutdown());

let n = 0;
const createOrg = (token: string) => call(ctx.app, "POST", "/api/v1/orgs", { token, body: { name: `Limit ${Date.now()} ${n++}` } });
const join = (token: string, inviteCode: string) => call(ctx.app, "POST", "/api/v1/orgs/join", { token, body: { inviteCode } });
/** `count` orgs owned by others (one owner each, so no owner reaches the limit), as {id, inviteCode, ownerToken}. */
async function othersOrgs(count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const owner = await signUp(ctx.app);
      const org = await createOrg(owner.token);
      expect(org.status).toBe(201);
      return { ...(org.body as { id: string; inviteCode: string }), ownerToken: owner.token };
    }),
  );
}
const myOrgIds = async (token: string) =>
  (await call(ctx.app, "GET", "/api/v1/orgs", { token })).body.items.map((o: { id: string }) => o.id);

describe("the orgs one user belongs to", () => {
  it("stop at MAX_ORGS_PER_USER, created and joined alike: the next is 409 MEMBERSHIP_LIMIT, writing nothing; leaving gives the place back", async () => {
    const user = await signUp(ctx.app);
    const orgs = await othersOrgs(2);
    expect((await createOrg(user.token)).status).toBe(201);
    expect((await join(user.token, orgs[0]!.inviteCode)).status).toBe(200);
    expect((await createOrg(user.token)).status).toBe(201);
    const before = await readTable(ctx.core.db);
    const joined = await join(user.token, orgs[1]!.inviteCode);
    expect(joined.status).toBe(409);
    expect(joined.body.error.code).toBe("MEMBERSHIP_LIMIT");
    expect((await createOrg(user.token)).body.error.code).toBe("MEMBERSHIP_LIMIT");
    expect(await readTable(ctx.core.db)).toEqual(before);
    // Joining an org one already belongs to is no new membership: still fine.
    expect((await join(user.token, orgs[0]!.inviteCode)).status).toBe(200);

    expect((await call(ctx.app, "POST", `/api/v1/orgs/${orgs[0]!.id}/leave`, { token: user.token })).status).toBe(204);
    expect((await join(user.token, orgs[1]!.inviteCode)).status).toBe(200);
    expect(await myOrgIds(user.token)).toHaveLength(LIMIT);
  });

  it("a removal gives the place back too", async () => {
    const user = await signUp(ctx.app);
    const orgs = await othersOrgs(LIMIT + 1);
    for (const org of orgs.slice(0, LIMIT)) expect((await join(user.token, org.inviteCode)).status).toBe(200);
    expect((await join(user.token, orgs[LIMIT]!.inviteCode)).status).toBe(409);
    expect((await call(ctx.app, "DELETE", `/api/v1/orgs/${orgs[0]!.id}/members/${user.id}`, { token: orgs[0]!.ownerToken })).status).toBe(
      204,
    );
    expect((await join(user.token, orgs[LIMIT]!.inviteCode)).status).toBe(200);
  });

  it("racing joins: exactly MAX_ORGS_PER_USER win", async () => {
    const user = await signUp(ctx.app);
    const orgs = await othersOrgs(6);
    const results = await Promise.all(orgs.map((org) => join(user.token, org.inviteCode)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status !== 200).every((r) => r.body.error.code === "MEMBERSHIP_LIMIT")).toBe(true);
    expect(await myOrgIds(user.token)).toHaveLength(LIMIT);
  });

  it("an account made before the count existed has its memberships counted by its first change, never below zero", async () => {
    const user = await signUp(ctx.app);
    const orgs = await othersOrgs(LIMIT + 2);
    for (const org of orgs.slice(0, 2)) expect((await join(user.token, org.inviteCode)).status).toBe(200);
    const key = userKeys.user(user.id);
    const orgCount = async () => (await ctx.core.db.doc.send(new GetCommand({ TableName: ctx.core.db.table, Key: key }))).Item?.orgCount;
    const uncount = () =>
      ctx.core.db.doc.send(new UpdateCommand({ TableName: ctx.core.db.table, Key: key, UpdateExpression: "REMOVE orgCount" }));

    await uncount();
    expect((await call(ctx.app, "POST", `/api/v1/orgs/${orgs[0]!.id}/leave`, { token: user.token })).status).toBe(204);
    expect(await orgCount()).toBe(1);
    await uncount();
    expect((await call(ctx.app, "DELETE", `/api/v1/orgs/${orgs[1]!.id}/members/${user.id}`, { token: orgs[1]!.ownerToken })).status).toBe(
      204,
    );
    expect(await orgCount()).toBe(0);

    // Three memberships (the removal rotated org 1's code), then the count taken away: the next join
    // is counted from the three, so refused.
    for (const org of [orgs[0]!, orgs[2]!, orgs[3]!]) expect((await join(user.token, org.inviteCode)).status).toBe(200);
    await uncount();
    expect((await join(user.token, orgs[4]!.inviteCode)).body.error.code).toBe("MEMBERSHIP_LIMIT");
    expect((await createOrg(user.token)).body.error.code).toBe("MEMBERSHIP_LIMIT");
    expect(await orgCount()).toBeUndefined();
    expect(await myOrgIds(user.token)).toHaveLength(LIMIT);
  });
});
