/** Job submission, atomic quota, idempotency and listing over HTTP against DynamoDB Local. */

import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { userKeys } from "../packages/core/src/user/keys";
import { testApp } from "./support/core";
import { call, signUp, signUpAdmin, validJob } from "./support/http";

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  // A long request timeout: 50 concurrent submissions of one user race for their quota and limits
  // items, which under the whole suite's load can take DynamoDB Local over 2 s a call; this file
  // checks what a submission writes, not timeouts (faults.int.test.ts does).
  ctx = await testApp({ AWS_REQUEST_TIMEOUT_MS: "10000" });
});

const submit = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  call(ctx.app, "POST", "/api/v1/jobs", { token, body, headers });
const quotaOf = async (token: string) => (await call(ctx.app, "GET", "/api/v1/me", { token })).body.quota;
const myJobs = async (token: string, query = "") => (await call(ctx.app, "GET", `/api/v1/jobs${query}`, { token })).body;

/** Every item in the user's partition: profile and quota items (the stored truth). */
async function storedItemsOfUser(userId: string) {
  const { Items } = await ctx.core.db.doc.send(
    new QueryCommand({
      TableName: ctx.core.db.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": userKeys.user(userId).pk },
    }),
  );
  return Items ?? [];
}

describe("POST /jobs", () => {
  it("creates a PENDING job with an exact cost estimate and reserves quota", async () => {
    const user = await signUp(ctx.app);
    const res = await submit(user.token, validJob({ gpuType: "H100", provider: "aws", gpuCount: 2, estimatedHours: 1.25 }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ownerId: user.id,
      status: "PENDING",
      gpuType: "H100",
      provider: "aws",
      priority: "medium",
      sensitive: false,
      dependsOn: [],
      reservedGpuHours: 2.5,
      // 6.88 USD × 2 GPUs × 1.25 h
      estimatedCostUsd: "17.20",
    });
    expect(await quotaOf(user.token)).toMatchObject({ limitHours: 10, reservedHours: 2.5, usedHours: 0, remainingHours: 7.5 });
    const events = await call(ctx.app, "GET", `/api/v1/jobs/${res.body.id}/events`, { token: user.token });
    expect(events.body.items).toEqual([expect.objectContaining({ status: "PENDING", actor: user.id })]);
  });

  it("takes any positive estimate and reserves it rounded UP to the next milli-GPU-hour", async () => {
    const user = await signUp(ctx.app);
    // 50 minutes as a user computes it: reserved and shown as 0.834 h.
    const fifty = await submit(user.token, validJob({ gpuType: "A100", provider: "aws", gpuCount: 2, estimatedHours: 50 / 60 }));
    expect(fifty.status).toBe(201);
    expect(fifty.body).toMatchObject({ estimatedHours: 0.834, reservedGpuHours: 1.668, estimatedCostUsd: "6.8388" });
    // A sliver of an hour still reserves one milli-hour per GPU; whole milli-hours stay as they are.
    const sliver = await submit(user.token, validJob({ gpuCount: 64, estimatedHours: 1e-10 }));
    expect(sliver.body).toMatchObject({ estimatedHours: 0.001, reservedGpuHours: 0.064 });
    const exact = await submit(user.token, validJob({ estimatedHours: 1.1 }));
    expect(exact.body).toMatchObject({ estimatedHours: 1.1, reservedGpuHours: 1.1 });
    expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 2.832, remainingHours: 7.168 });
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${fifty.body.id}`, { token: user.token })).body.estimatedHours).toBe(0.834);
  });

  it("without a provider, estimates at the cheapest provider offering the GPU type", async () => {
    const user = await signUp(ctx.app);
    const res = await submit(user.token, validJob({ gpuType: "T4", gpuCount: 3, estimatedHours: 0.333 }));
    // onprem T4 0.12 USD × 3 × 0.333 h = 0.11988
    expect(res.body.estimatedCostUsd).toBe("0.11988");
    expect(res.body.provider).toBeUndefined();
  });

  it("refuses a job that does not fit the quota with 400 QUOTA_EXCEEDED and writes nothing", async () => {
    const user = await signUp(ctx.app);
    expect((await submit(user.token, validJob({ gpuCount: 4, estimatedHours: 2 }))).status).toBe(201);
    const before = await storedItemsOfUser(user.id);
    const res = await submit(user.token, validJob({ gpuCount: 3, estimatedHours: 1 }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("QUOTA_EXCEEDED");
    expect(await storedItemsOfUser(user.id)).toEqual(before);
    expect((await myJobs(user.token)).items).toHaveLength(1);
    // What still fits is accepted: 2 GPU-hours left exactly.
    expect((await submit(user.token, validJob({ gpuCount: 2, estimatedHours: 1 }))).status).toBe(201);
    expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 10, remainingHours: 0 });
  });

  it("refuses a first job larger than the whole monthly limit and opens no quota period", async () => {
    const user = await signUp(ctx.app);
    const res = await submit(user.token, validJob({ gpuCount: 11, estimatedHours: 1 }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("QUOTA_EXCEEDED");
    expect((await storedItemsOfUser(user.id)).map((i) => i.sk)).toEqual(["USER"]);
  });

  it("50 concurrent 1 GPU-hour submissions against a 10 GPU-hour limit: exactly 10 win", async () => {
    const user = await signUp(ctx.app);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(user.token, validJob({ name: `job-${i}` }))));
    const statuses = results.map((r) => r.status);
    const others = results.filter((r) => r.status !== 201 && r.status !== 400).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
    expect(
      statuses.filter((s) => s === 201),
      others.slice(0, 2).join("; "),
    ).toHaveLength(10);
    expect(statuses.filter((s) => s === 400)).toHaveLength(40);
    expect(results.filter((r) => r.status === 400).every((r) => r.body.error.code === "QUOTA_EXCEEDED")).toBe(true);
    expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 10, remainingHours: 0 });
    expect((await myJobs(user.token, "?limit=100")).items).toHaveLength(10);
  });

  it("sums fractional GPU-hours exactly (no float drift)", async () => {
    const user = await signUp(ctx.app);
    for (let i = 0; i < 10; i++) expect((await submit(user.token, validJob({ estimatedHours: 0.1 }))).status).toBe(201);
    expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 1, remainingHours: 9 });
  });

  describe("Idempotency-Key", () => {
    it("a retry with the same key and body returns the same job (200) and reserves once", async () => {
      const user = await signUp(ctx.app);
      const headers = { "Idempotency-Key": "retry-1" };
      const first = await submit(user.token, validJob({ estimatedHours: 2 }), headers);
      // Same body with keys in another order is the same request.
      const { estimatedHours, ...rest } = validJob({ estimatedHours: 2 });
      const again = await submit(user.token, { estimatedHours, ...rest }, headers);
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 2 });
      expect((await myJobs(user.token)).items).toHaveLength(1);
    });

    it("the same key with a different body is 409 and changes nothing", async () => {
      const user = await signUp(ctx.app);
      const headers = { "Idempotency-Key": "k-2" };
      await submit(user.token, validJob(), headers);
      const res = await submit(user.token, validJob({ name: "other" }), headers);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 1 });
    });

    it("concurrent retries with one key create exactly one job", async () => {
      const user = await signUp(ctx.app);
      const results = await Promise.all(Array.from({ length: 10 }, () => submit(user.token, validJob(), { "Idempotency-Key": "burst" })));
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200)).toHaveLength(9);
      expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 1 });
    });

    it("keys are per user: another user's key does not collide", async () => {
      const a = await signUp(ctx.app);
      const b = await signUp(ctx.app);
      const ra = await submit(a.token, validJob(), { "Idempotency-Key": "shared" });
      const rb = await submit(b.token, validJob(), { "Idempotency-Key": "shared" });
      expect(rb.status).toBe(201);
      expect(rb.body.id).not.toBe(ra.body.id);
    });

    it("rejects an unusable key with 400", async () => {
      const user = await signUp(ctx.app);
      const res = await submit(user.token, validJob(), { "Idempotency-Key": "x".repeat(300) });
      expect(res.status).toBe(400);
      expect((await myJobs(user.token)).items).toHaveLength(0);
    });
  });

  describe("bad input → 4xx, nothing written", () => {
    let user: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      user = await signUp(ctx.app);
    });

    it.each<[string, { body?: unknown; rawBody?: string }, number]>([
      ["malformed JSON", { rawBody: '{"name": "x",' }, 400],
      ["empty body", { rawBody: "" }, 400],
      ["a JSON array", { body: [validJob()] }, 400],
      ["gpuCount as a string", { body: validJob({ gpuCount: "2" }) }, 400],
      ["gpuCount 0", { body: validJob({ gpuCount: 0 }) }, 400],
      ["gpuCount 65", { body: validJob({ gpuCount: 65 }) }, 400],
      ["fractional gpuCount", { body: validJob({ gpuCount: 1.5 }) }, 400],
      ["estimatedHours 0", { body: validJob({ estimatedHours: 0 }) }, 400],
      ["estimatedHours negative", { body: validJob({ estimatedHours: -1 }) }, 400],
      ["estimatedHours beyond a month", { body: validJob({ estimatedHours: 721 }) }, 400],
      ["estimatedHours just beyond a month", { body: validJob({ estimatedHours: 720.0001 }) }, 400],
      ["unknown gpuType", { body: validJob({ gpuType: "RTX4090" }) }, 400],
      ["unknown provider", { body: validJob({ gpuType: "H100", provider: "onprem_x" }) }, 400],
      ["provider not offering the GPU", { body: validJob({ gpuType: "L4", provider: "lambda" }) }, 400],
      ["bad priority", { body: validJob({ priority: "urgent" }) }, 400],
      ["image with spaces", { body: validJob({ image: "rm -rf /" }) }, 400],
      ["name with a bidi override", { body: validJob({ name: "train\u202Egnp.exe" }) }, 400],
      ["name with a control character", { body: validJob({ name: "train\u0007" }) }, 400],
      ["image with a zero-width character", { body: validJob({ image: "pytorch\u200B/pytorch" }) }, 400],
      ["command with a bidi isolate", { body: validJob({ command: "python train.py \u2066--evil\u2069" }) }, 400],
      ["command with an escape sequence", { body: validJob({ command: "echo \u001b[2J" }) }, 400],
      ["missing name", { body: { ...validJob(), name: undefined } }, 400],
      ["unknown field", { body: validJob({ status: "COMPLETED" }) }, 400],
      ["dependsOn not ids", { body: validJob({ dependsOn: ["abc"] }) }, 400],
      ["dependsOn unknown job", { body: validJob({ dependsOn: ["01ARZ3NDEKTSV4RRFFQ69G5FAV"] }) }, 404],
      ["body over 64 KiB", { body: validJob({ command: "x".repeat(70 * 1024) }) }, 413],
    ])("%s → %i", async (_, req, status) => {
      const res = await call(ctx.app, "POST", "/api/v1/jobs", { token: user.token, ...req });
      expect(res.status).toBe(status);
      expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
      expect((await myJobs(user.token)).items).toHaveLength(0);
      expect(await quotaOf(user.token)).toMatchObject({ reservedHours: 0 });
    });

    it("without a token → 401", async () => {
      expect((await call(ctx.app, "POST", "/api/v1/jobs", { body: validJob() })).status).toBe(401);
    });
  });

  it("accepts a command of several lines with tabs", async () => {
    const user = await signUp(ctx.app);
    const res = await submit(user.token, validJob({ command: "set -e\n\tpython train.py \\\n\t  --epochs 3" }));
    expect(res.status).toBe(201);
    expect(res.body.command).toBe("set -e\n\tpython train.py \\\n\t  --epochs 3");
  });

  it("accepts dependencies on the caller's own jobs only", async () => {
    const a = await signUp(ctx.app);
    const b = await signUp(ctx.app);
    const parent = await submit(a.token, validJob());
    const child = await submit(a.token, validJob({ dependsOn: [parent.body.id] }));
    expect(child.status).toBe(201);
    expect(child.body.dependsOn).toEqual([parent.body.id]);
    const foreign = await submit(b.token, validJob({ dependsOn: [parent.body.id] }));
    expect(foreign.status).toBe(404);
    expect(await quotaOf(b.token)).toMatchObject({ reservedHours: 0 });
  });
});

describe("reading jobs", () => {
  it("GET /jobs/{id}: the owner sees it, another user gets 404, a bad id is 404", async () => {
    const owner = await signUp(ctx.app);
    const other = await signUp(ctx.app);
    const job = (await submit(owner.token, validJob())).body;
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${job.id}`, { token: owner.token })).body).toEqual(job);
    const foreign = await call(ctx.app, "GET", `/api/v1/jobs/${job.id}`, { token: other.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("NOT_FOUND");
    expect((await call(ctx.app, "GET", `/api/v1/jobs/${job.id}/events`, { token: other.token })).status).toBe(404);
    expect((await call(ctx.app, "GET", "/api/v1/jobs/not-an-id", { token: owner.token })).status).toBe(404);
  });

  it("GET /jobs pages through the caller's jobs newest first with an opaque cursor", async () => {
    const user = await signUp(ctx.app);
    const other = await signUp(ctx.app);
    await submit(other.token, validJob());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(user.token, validJob({ name: `n${i}`, estimatedHours: 0.5 }))).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await myJobs(user.token, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((j: any) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await myJobs(user.token, "?status=PENDING")).items).toHaveLength(5);
    expect((await myJobs(user.token, "?status=RUNNING")).items).toHaveLength(0);
  });

  it.each(["?limit=0", "?limit=101", "?limit=abc", "?status=DONE", "?cursor=garbage"])("GET /jobs%s → 400", async (query) => {
    const user = await signUp(ctx.app);
    const res = await call(ctx.app, "GET", `/api/v1/jobs${query}`, { token: user.token });
    expect(res.status).toBe(400);
  });

  it("GET /admin/jobs: 403 for users; admins page through everyone's jobs by status", async () => {
    const { app, core } = await testApp();
    const admin = await signUpAdmin(app, core);
    const users = [await signUp(app), await signUp(app)];
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await call(app, "POST", "/api/v1/jobs", { token: users[i % 2]!.token, body: validJob({ estimatedHours: 0.5 }) });
      ids.push(res.body.id);
    }
    const forbidden = await call(app, "GET", "/api/v1/admin/jobs", { token: users[0]!.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("FORBIDDEN");

    for (const query of ["?status=PENDING&limit=3", "?limit=3"]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = (await call(app, "GET", `/api/v1/admin/jobs${query}${cursor ? `&cursor=${cursor}` : ""}`, { token: admin.token }))
          .body;
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((j: any) => j.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    }
    const none = await call(app, "GET", "/api/v1/admin/jobs?status=COMPLETED", { token: admin.token });
    expect(none.body).toEqual({ items: [], nextCursor: null });

    // A hand-made cursor placing a job in a shard it does not belong to is bad input, not a 500.
    const { jobShard } = await import("../packages/core/src/job/keys");
    const foreign = (jobShard(ids[0]!) + 1) % 16;
    const crafted = Buffer.from(JSON.stringify({ positions: { [foreign]: ids[0] } })).toString("base64url");
    const bad = await call(app, "GET", `/api/v1/admin/jobs?status=PENDING&cursor=${crafted}`, { token: admin.token });
    expect(bad.status).toBe(400);
  });
});

describe("the app edge", () => {
  it("GET /health is 200 when the table answers", async () => {
    const res = await call(ctx.app, "GET", "/health");
    expect(res.status).toBe(200);
  });

  it("unknown routes are a JSON 404", async () => {
    const res = await call(ctx.app, "GET", "/api/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
  });
});
