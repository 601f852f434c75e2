/** Access tokens: ES256 JWTs via jose, each naming its signing key (`kid`), with issuer, audience and
 * expiry checked and the algorithm pinned. Only the API holds the private key (JWT_SIGNING_KEY);
 * anyone may verify with the public keys it publishes at /.well-known/jwks.json. */
import { createLocalJWKSet, importJWK, type JWTVerifyGetKey, jwtVerify, SignJWT } from "jose";
import * as z from "zod";
import type { CoreConfig } from "../config/config";
import { UnauthorizedError } from "../errors";
import { ROLES, type Role, type UserItem } from "../user/user";

const ALGORITHM = "ES256";

export interface Actor {
  userId: string;
  role: Role;
  /** The account's session version the token was issued at (UserItem.sessionVersion); absent in
   * tokens older than it, which count as 0. */
  sessionVersion?: number;
  /** The account as `authenticate` read it for this request, so use cases need not read it again.
   * Absent when only the token was verified (`verifyToken`): the role is then the token's claim and
   * must not be trusted; a use case given such an actor reads the account first (`activeUser`). */
  account?: UserItem;
  /** The HTTP request acting (set by the API): its id, and the X-Request-Id the client sent. Audit entries keep both. */
  request?: { id: string; clientId?: string };
}

const ClaimsSchema = z.object({ sub: z.string().min(1), role: z.enum(ROLES), sv: z.number().int().min(0).optional() });

// Imported once per configuration (a Lambda has one; tests make many).
const signingKeys = new WeakMap<CoreConfig["jwt"], ReturnType<typeof importJWK>>();
const verifyingKeys = new WeakMap<CoreConfig["jwt"], JWTVerifyGetKey>();

export async function issueAccessToken(jwt: CoreConfig["jwt"], actor: Actor, now: Date) {
  const signing = jwt.signingKey;
  if (!signing) throw new Error("This function holds no token signing key (JWT_SIGNING_KEY): only the API issues tokens");
  const key = signingKeys.get(jwt) ?? importJWK({ ...signing, alg: ALGORITHM }, ALGORITHM);
  signingKeys.set(jwt, key);
  const iat = Math.floor(now.getTime() / 1000);
  const accessToken = await new SignJWT({ role: actor.role, sv: actor.sessionVersion ?? 0 })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT", kid: signing.kid })
    .setSubject(actor.userId)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + jwt.ttlSeconds)
    .sign(await key);
  return { accessToken, tokenType: "Bearer" as const, expiresIn: jwt.ttlSeconds };
}

/** Tokens whose signature and claims verified, until their `exp`: verifying is pure (the same token,
 * keys, issuer and audience always verify the same way), so a hit skips only the signature check and the parsing,
 * never the expiry check, and never the account check that follows on every request. Bounded. */
const verified = new Map<string, { actor: Actor; exp: number }>();
const MAX_VERIFIED = 10_000;

/** Verifies a bearer token; any defect (alg none, other key, expired, tampered, wrong iss/aud) → UnauthorizedError. */
export async function verifyAccessToken(jwt: CoreConfig["jwt"], token: string, now: Date): Promise<Actor> {
  const key = `${jwt.publicKeys.map((k) => `${k.kid}:${k.x}`).join(",")}\0${jwt.issuer}\0${jwt.audience}\0${token}`;
  const seconds = Math.floor(now.getTime() / 1000);
  const hit = verified.get(key);
  // jose's own rule: expired once exp <= now (in whole seconds).
  if (hit && hit.exp > seconds) return { ...hit.actor };
  try {
    const keys = verifyingKeys.get(jwt) ?? createLocalJWKSet(publicKeySet(jwt));
    verifyingKeys.set(jwt, keys);
    const { payload } = await jwtVerify(token, keys, {
      algorithms: [ALGORITHM],
      issuer: jwt.issuer,
      audience: jwt.audience,
      currentDate: now,
      requiredClaims: ["exp", "iat", "sub"],
    });
    const claims = ClaimsSchema.parse(payload);
    const actor: Actor = { userId: claims.sub, role: claims.role, sessionVersion: claims.sv ?? 0 };
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(key, { actor, exp: payload.exp! });
    return { ...actor };
  } catch (error) {
    throw new UnauthorizedError("Invalid or expired access token", { cause: error });
  }
}

/** The public keys tokens verify against, as a JWK Set (RFC 7517): the current signing key first. */
export const publicKeySet = (jwt: CoreConfig["jwt"]) => ({ keys: jwt.publicKeys.map((k) => ({ ...k, alg: ALGORITHM, use: "sig" })) });
