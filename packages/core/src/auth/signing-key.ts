/** Making the API's token signing key (ES256: an EC P-256 key pair as a JWK with a `kid`): the local
 * stack's, the tests', and `npm run keygen`'s for a deployment's secret (docs/aws.md, "Token keys"). */
import { generateKeyPairSync } from "node:crypto";
import type { PrivateJwk } from "../config/config";

export { publicHalf } from "../config/config";

/** A fresh signing key named `kid` (by default the day and a random suffix: `2026-12-07-x7k2`). */
export function generateSigningKey(kid = `${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 6)}`): PrivateJwk {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  return { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y!, d: jwk.d!, kid };
}
