import { describe, expect, it } from "vitest";
import { DEFAULT_HASH_COST, hashPassword, needsRehash, verifyPassword } from "../packages/core/src/auth/password";

describe("password hashing", () => {
  it("salts every hash at the default cost N = 2^17, r = 8, p = 1 (OWASP) and verifies only the right password", async () => {
    expect(DEFAULT_HASH_COST).toBe(17);
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  it("verifies hashes made at another cost, and says they need a rehash", async () => {
    const old = await hashPassword("correct horse battery", 14);
    expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword("correct horse battery", old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(old, 14)).toBe(false);
  });

  it("never matches a malformed stored hash, nor one whose parameters would make a login spend without bound", async () => {
    expect(await verifyPassword("x", "")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$abc")).toBe(false);
    const good = await hashPassword("x", 12);
    const [, , r, p, salt, hash] = good.split("$");
    for (const N of [2 ** 30, 3000, 0, -1])
      expect(await verifyPassword("x", ["scrypt", N, r, p, salt, hash].join("$")), String(N)).toBe(false);
    expect(await verifyPassword("x", ["scrypt", 4096, 1000, p, salt, hash].join("$"))).toBe(false);
  });
});
