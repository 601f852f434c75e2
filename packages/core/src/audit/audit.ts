/** The audit trail (issue 20, docs/security.md): every change an admin or an org owner makes to
 * accounts, quotas, budgets, pools, invite codes and memberships, and every reset or rollup run by
 * hand, as an append-only entry written in the same transaction as the change itself (so there is
 * no change without its entry, nor an entry without its change). Who (the actor and their role at
 * the time), what (the action and its target), the values before and after, when, and the request. */
import * as z from "zod";
import type { Actor } from "../auth/token";
import type { Role } from "../user/user";
import { isId, newId } from "../util/id";

export const AUDIT_ACTIONS = [
  "user.access", // role and/or active
  "user.quota", // standing monthly limit
  "org.budget",
  "org.inviteCode.rotate",
  "org.member.remove",
  "cluster.create",
  "cluster.update", // resize and/or drain
  "quota.reset.run",
  "cost.rollup.run",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditTarget {
  kind: "user" | "org" | "cluster" | "quotaReset" | "costRollup";
  id: string;
}

export interface AuditEntryItem {
  pk: string;
  sk: string;
  type: "AuditEntry";
  id: string;
  at: string;
  actorId: string;
  actorRole: Role;
  action: AuditAction;
  target: AuditTarget;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** The request that made the change (API Gateway's id, or the local server's), and the id the client sent, if any. */
  requestId?: string;
  clientRequestId?: string;
}

/** An entry about to be written: the caller names the change; id and time are made here. */
export interface AuditChange {
  action: AuditAction;
  target: AuditTarget;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** The entry `actor` makes with `change` at `at` (keys added by the store). */
export const auditEntry = (actor: Actor, change: AuditChange, at: string): Omit<AuditEntryItem, "pk" | "sk" | "type"> => ({
  id: newId(),
  at,
  actorId: actor.userId,
  actorRole: actor.role,
  ...change,
  ...(actor.request?.id ? { requestId: actor.request.id } : {}),
  ...(actor.request?.clientId ? { clientRequestId: actor.request.clientId } : {}),
});

export const toAuditEntry = (item: AuditEntryItem) => ({
  id: item.id,
  at: item.at,
  actor: { id: item.actorId, role: item.actorRole },
  action: item.action,
  target: item.target,
  before: item.before ?? null,
  after: item.after ?? null,
  requestId: item.requestId ?? null,
  clientRequestId: item.clientRequestId ?? null,
});

export const ListAuditInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
export const AuditCursor = z.object({ before: z.string().refine(isId) });
