/** Every key of the user entities (an account, its place in the user list, its email's uniqueness
 * guard) is built here. docs/data-model.md ("Users and quotas") is the map. */

export const userKeys = {
  user: (userId: string) => ({ pk: `USER#${userId}`, sk: "USER" }),
  /** gsi1: every user, in id (creation) order. Registration is rare, one partition is plenty. */
  list: (userId: string) => ({ gsi1pk: "USERS", gsi1sk: userId }),
  listPartition: () => ({ gsi1pk: "USERS" }),
  /** gsi2: the active admins (an admin account while active), so "is another admin left?" is one
   * small Query, whatever the number of users. */
  activeAdmin: (userId: string) => ({ gsi2pk: "ADMINS#ACTIVE", gsi2sk: userId }),
  activeAdminsPartition: () => ({ gsi2pk: "ADMINS#ACTIVE" }),
  /** Uniqueness guard: one item per lower-cased email, pointing at the user. */
  email: (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: "EMAIL" }),
} as const;
