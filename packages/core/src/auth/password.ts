/** Password hashing: scrypt with a per-user random salt, compared in constant time. The cost is
 * N = 2^PASSWORD_HASH_COST (default 2^17, r = 8, p = 1: OWASP's minimum for scrypt); a hash made
 * at other parameters verifies as before and is replaced on its next successful login (needsRehash). */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { PASSWORD_HASH_COST } from "../config/config";

export const DEFAULT_HASH_COST: number = PASSWORD_HASH_COST.default;
const { min: MIN_HASH_COST, max: MAX_HASH_COST } = PASSWORD_HASH_COST;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** scrypt needs 128·N·r bytes; Node's default limit (32 MiB) is below that from N = 2^15. */
const options = (N: number, r: number, p: number): ScryptOptions => ({ N, r, p, maxmem: 256 * N * r });

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Returns `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string, cost = DEFAULT_HASH_COST): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** cost;
  const key = await derive(password, salt, options(N, R, P));
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** A stored hash's parts, or undefined when malformed or at parameters no setting makes (a stored
 * hash never makes a login spend more than MAX_HASH_COST allows). */
function parse(stored: string) {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  const N = Number(n);
  const [rv, pv] = [Number(r), Number(p)];
  if (scheme !== "scrypt" || !salt || !hash) return undefined;
  if (!Number.isInteger(Math.log2(N)) || N < 2 ** MIN_HASH_COST || N > 2 ** MAX_HASH_COST) return undefined;
  if (!Number.isInteger(rv) || rv < 1 || rv > 16 || !Number.isInteger(pv) || pv < 1 || pv > 4) return undefined;
  return { N, r: rv, p: pv, salt: Buffer.from(salt, "base64url"), hash: Buffer.from(hash, "base64url") };
}

/** True when `password` matches `stored`; malformed hashes never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = parse(stored);
  if (!parts) return false;
  const actual = await derive(password, parts.salt, options(parts.N, parts.r, parts.p));
  return actual.length === parts.hash.length && timingSafeEqual(actual, parts.hash);
}

/** True when `stored` was made at other parameters than `cost` would make now. */
export function needsRehash(stored: string, cost = DEFAULT_HASH_COST): boolean {
  const parts = parse(stored);
  return !parts || parts.N !== 2 ** cost || parts.r !== R || parts.p !== P;
}

// Verified against when the email is unknown, so a miss costs as long as a wrong password.
const decoys = new Map<number, Promise<string>>();
export function decoyHash(cost = DEFAULT_HASH_COST): Promise<string> {
  const decoy = decoys.get(cost) ?? hashPassword("decoy-password-never-matches", cost);
  decoys.set(cost, decoy);
  return decoy;
}
