/** Secrets of the local stack, generated once and kept in the data dir (mode 0600): the API's token
 * signing key (ES256, so tokens survive restarts) and the bootstrap admin's password when ADMIN_PASSWORD is not
 * set (so no stack starts with a password everyone knows). */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKey } from "@gpuaas/core";

/** The local API's signing key as JWT_SIGNING_KEY takes it (a private JWK in JSON): read from
 * `DATA_DIR/jwt-signing-key.json`, or made and kept there. */
export function localSigningKey(dataDir: string): string {
  const file = join(dataDir, "jwt-signing-key.json");
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing.startsWith("{")) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = JSON.stringify(generateSigningKey());
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The bootstrap admin's password when ADMIN_PASSWORD is unset: read from the data dir, or made up
 * (24 characters of base64url, 144 random bits) and kept there. `generated` when made up now. */
export function localAdminPassword(dataDir: string): { password: string; generated: boolean } {
  const file = join(dataDir, "admin-password");
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing.length >= 12) return { password: existing, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const password = randomBytes(18).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return { password, generated: true };
}
