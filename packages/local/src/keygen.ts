/** `npm run -s keygen [kid]`: prints a new ES256 token signing key (a private JWK with its kid) for
 * a deployment's JwtSigningKey secret, and on stderr its public half for JwtRetiredKeys once it is
 * rotated out (docs/aws.md, "Token keys"). */
import { generateSigningKey, publicHalf } from "@gpuaas/core";

const key = generateSigningKey(process.argv[2] || undefined);
process.stdout.write(`${JSON.stringify(key)}\n`);
process.stderr.write(`public half (for JwtRetiredKeys after a rotation): ${JSON.stringify(publicHalf(key))}\n`);
