/** Every key of the audit trail is built here. docs/data-model.md ("Audit trail") is the map. */

export const auditKeys = {
  /** One partition for the whole trail (admin and owner changes are rare), newest last by id (ULIDs sort by time). */
  entry: (id: string) => ({ pk: "AUDIT", sk: `ENTRY#${id}` }),
  partition: () => ({ pk: "AUDIT" }),
  entryPrefix: () => "ENTRY#",
} as const;
