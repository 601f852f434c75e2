/** The key of an Idempotency-Key's record (one per user and key). docs/data-model.md is the map. */

export const idempotencyKeys = {
  record: (userId: string, key: string) => ({ pk: `IDEMPOTENCY#${userId}#${key}`, sk: "IDEMPOTENCY" }),
} as const;
