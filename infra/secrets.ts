/** Per-stage secrets: `npx sst secret set JwtSecret "$(openssl rand -base64 48)" --stage <stage>`. */

/** HS256 key for access tokens; core rejects one shorter than 32 characters at cold start. */
export const jwtSecret = new sst.Secret("JwtSecret");
