/** MAX_POOLS_PER_ORG over HTTP against DynamoDB Local: an org's private pools are counted on the org
 * in the creating transaction; past the limit a creation is 409 POOL_LIMIT and writes nothing, racing
 * creations cannot pass it, and each org has its own count. */

import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./support/audit";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin } from "./support/http";

const LIMIT = 2;
let ctx: Awaited<ReturnType<typeof testApp>>;
let admin: Awaited<ReturnType<typeof signUpAdmin>>;
beforeAll(async () => {
  ctx = await testApp({ MAX_POOLS_PER_ORG: String(LIMIT) });
  admin = await signUpAdmin(ctx.app, ctx.core);
});
afterAll(() => ctx.engine.shutdown());

let n = 0;
const pool = () => ({
  name: `p-${n++}`,
  provider: "aws",
  region: "us-east-1",
  gpuType: "H100",
  totalGpus: 8,
  totalCpu: 64,
  totalRamGb: 512,
});
async function orgOf() {
  const owner = await signUp(ctx.app);
  const org = await call(ctx.app, "POST", "/api/v1/orgs", { token: owner.token, body: { name: `Pools ${Date.now()} ${n++}` } });
  return { owner, orgId: org.body.id as string };
}
const createPool = (token: string, orgId: string) => call(ctx.app, "POST", `/api/v1/orgs/${orgId}/clusters`, { token, body: pool() });

describe("the private pools of an org", () => {
  it("stop at MAX_POOLS_PER_ORG: the next is 409 POOL_LIMIT, for its owner and an admin alike, writing nothing", async () => {
    const { owner, orgId } = await orgOf();
    for (let i = 0; i < LIMIT; i++) expect((await createPool(owner.token, orgId)).status).toBe(201);
    await ctx.settle();
    const before = await readTable(ctx.core.db);
    const refused = await createPool(owner.token, orgId);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("POOL_LIMIT");
    const byAdmin = await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: { ...pool(), orgId } });
    expect(byAdmin.body.error.code).toBe("POOL_LIMIT");
    await ctx.settle();
    expect(await readTable(ctx.core.db)).toEqual(before);
    // Another org has its own count; shared pools have none.
    const other = await orgOf();
    expect((await createPool(other.owner.token, other.orgId)).status).toBe(201);
    for (let i = 0; i < LIMIT + 1; i++)
      expect((await call(ctx.app, "POST", "/api/v1/admin/clusters", { token: admin.token, body: pool() })).status).toBe(201);
  });

  it("racing creations: exactly MAX_POOLS_PER_ORG win", async () => {
    const { owner, orgId } = await orgOf();
    const results = await Promise.all(Array.from({ length: 6 }, () => createPool(owner.token, orgId)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === "POOL_LIMIT")).toBe(true);
    const listed = await call(ctx.app, "GET", "/api/v1/clusters", { token: owner.token });
    expect(listed.body.items.filter((c: { orgId?: string }) => c.orgId === orgId)).toHaveLength(LIMIT);
  });

  it("an org made before pools were counted has its pools counted by its next creation", async () => {
    const { owner, orgId } = await orgOf();
    expect((await createPool(owner.token, orgId)).status).toBe(201);
    // As stored before the count: a pool, and no poolCount on the org.
    await ctx.core.db.doc.send(
      new UpdateCommand({ TableName: ctx.core.db.table, Key: { pk: `ORG#${orgId}`, sk: "ORG" }, UpdateExpression: "REMOVE poolCount" }),
    );
    expect((await createPool(owner.token, orgId)).status).toBe(201);
    const refused = await createPool(owner.token, orgId);
    expect(refused.body.error.code).toBe("POOL_LIMIT");
    const { Item } = await ctx.core.db.doc.send(new GetCommand({ TableName: ctx.core.db.table, Key: { pk: `ORG#${orgId}`, sk: "ORG" } }));
    expect(Item?.poolCount).toBe(LIMIT);
  });

  it("an unknown org is still 404", async () => {
    const res = await call(ctx.app, "POST", "/api/v1/admin/clusters", {
      token: admin.token,
      body: { ...pool(), orgId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" },
    });
    expect(res.status).toBe(404);
  });
});
