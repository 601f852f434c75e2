/** Every key of the authentication entities (the failed-login record of an email) is built here.
 * docs/data-model.md ("Users and quotas") is the map. */

export const authKeys = {
  /** Failed logins of one email (lower-cased), known account or not, so a lockout tells nothing. */
  loginAttempts: (email: string) => ({ pk: `LOGIN#${email.toLowerCase()}`, sk: "ATTEMPTS" }),
} as const;
