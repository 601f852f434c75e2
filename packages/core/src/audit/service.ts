/** Reading the audit trail (admins). Writing it is each audited command's own business: it adds
 * auditEntryItem to its transaction. */
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { transactWrite } from "../db/transact";
import { ForbiddenError } from "../errors";
import { decodeCursor, encodeCursor } from "../util/cursor";
import { parseInput } from "../util/fn";
import { type AuditChange, AuditCursor, auditEntry, ListAuditInput, toAuditEntry } from "./audit";
import { auditEntryItem, listAuditItems } from "./store";

/** GET /admin/audit: the trail, newest first, `{items, nextCursor}`. */
export async function listAudit(core: Core, actor: Actor, body: unknown) {
  const input = parseInput(ListAuditInput, body);
  if (actor.role !== "admin") throw new ForbiddenError("Admins only");
  const before = input.cursor ? decodeCursor(AuditCursor, input.cursor).before : undefined;
  const page = await listAuditItems(core.db, input.limit, before);
  const last = page.items.at(-1);
  return { items: page.items.map(toAuditEntry), nextCursor: page.more && last ? encodeCursor({ before: last.id }) : null };
}

/** Records that `actor` started a run (a reset, a rollup) by hand: a run is many transactions of
 * its own, so its entry is written once, before it starts. */
export async function recordRun(core: Core, actor: Actor, change: AuditChange): Promise<void> {
  await transactWrite(core.db, [auditEntryItem(core.db, auditEntry(actor, change, core.now().toISOString()))]);
}
