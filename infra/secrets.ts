/** Per-stage secrets, linked to the API function only (no other function signs or verifies tokens):
 *   npx sst secret set JwtSigningKey "$(npm run -s keygen)" --stage <stage>
 * and, when rotating, the old key's public half into JwtRetiredKeys (docs/aws.md, "Token keys"). */

/** The ES256 private key (a JWK with its kid) the API signs access tokens with. */
export const jwtSigningKey = new sst.Secret("JwtSigningKey");

/** Public keys of retired signing keys, a JSON array of JWKs; tokens they signed verify until they expire. */
export const jwtRetiredKeys = new sst.Secret("JwtRetiredKeys", "[]");
