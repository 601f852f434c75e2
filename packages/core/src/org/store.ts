/** Organization access patterns: orgs, members, claims (name, invite code), month spend and alerts. */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/client";
import { queryAll } from "../db/read";
import type { TransactItem } from "../db/transact";
import type { Micros } from "../util/money";
import { orgKeys } from "./keys";
import type { AlertThreshold, BudgetAlertItem, MembershipItem, OrgItem, OrgMemberItem, OrgRole, OrgSpendItem } from "./org";

const NEW = "attribute_not_exists(pk)";

/** Get an org by id. */
export async function getOrgItem(db: Db, orgId: string, consistent = false): Promise<OrgItem | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: orgKeys.org(orgId), ConsistentRead: consistent }));
  return Item as OrgItem | undefined;
}

/** Get a user's membership of an org (the user's side). */
export async function getMembershipItem(db: Db, userId: string, orgId: string, consistent = false): Promise<MembershipItem | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: orgKeys.membership(userId, orgId), ConsistentRead: consistent }),
  );
  return Item as MembershipItem | undefined;
}

/** The org an invite code opens, if the code is live. */
export async function getInviteOrgId(db: Db, code: string): Promise<string | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: orgKeys.invite(code), ConsistentRead: true }));
  return Item?.orgId as string | undefined;
}

/** A user's memberships (their orgs with their role), in org id order; read consistently, so a removal counts from the next request. */
export async function listMembershipItems(db: Db, userId: string): Promise<MembershipItem[]> {
  return queryPrefix<MembershipItem>(db, orgKeys.userPartition(userId).pk, orgKeys.membershipPrefix(), true);
}

/** An org's members, in user id order. */
export async function listMemberItems(db: Db, orgId: string): Promise<OrgMemberItem[]> {
  return queryPrefix<OrgMemberItem>(db, orgKeys.org(orgId).pk, orgKeys.memberPrefix());
}

/** An org's budget alerts, oldest month first. */
export async function listAlertItems(db: Db, orgId: string): Promise<BudgetAlertItem[]> {
  return queryPrefix<BudgetAlertItem>(db, orgKeys.org(orgId).pk, orgKeys.alertPrefix());
}

const queryPrefix = <T>(db: Db, pk: string, prefix: string, consistent = false) =>
  queryAll<T>(db, {
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
    ConsistentRead: consistent,
  });

/** The stored org item. */
export const orgItem = (org: Omit<OrgItem, "pk" | "sk" | "type">): OrgItem => ({ ...orgKeys.org(org.id), type: "Org", ...org });

/** Transaction items creating `org`: its name claim, its invite claim and the org itself (the caller names each part). */
export function createOrgItems(db: Db, org: OrgItem): [nameClaim: TransactItem, inviteClaim: TransactItem, org: TransactItem] {
  return [
    { Put: { TableName: db.table, Item: { ...orgKeys.name(org.name), type: "OrgNameClaim", orgId: org.id }, ConditionExpression: NEW } },
    {
      Put: {
        TableName: db.table,
        Item: { ...orgKeys.invite(org.inviteCode), type: "InviteClaim", orgId: org.id },
        ConditionExpression: NEW,
      },
    },
    { Put: { TableName: db.table, Item: org, ConditionExpression: NEW } },
  ];
}

/** Transaction items adding a member (both directions); each fails when the user already is one. */
export function addMemberItems(
  db: Db,
  m: { orgId: string; userId: string; role: OrgRole; orgName: string; joinedAt: string },
): TransactItem[] {
  const member: OrgMemberItem = {
    ...orgKeys.member(m.orgId, m.userId),
    type: "OrgMember",
    orgId: m.orgId,
    userId: m.userId,
    role: m.role,
    joinedAt: m.joinedAt,
  };
  const membership: MembershipItem = { ...orgKeys.membership(m.userId, m.orgId), type: "Membership", ...m };
  return [
    { Put: { TableName: db.table, Item: member, ConditionExpression: NEW } },
    { Put: { TableName: db.table, Item: membership, ConditionExpression: NEW } },
  ];
}

/** Transaction items removing a member (both directions): each fails unless the user is a plain
 * member (the owner is never removed this way). */
export function removeMemberItems(db: Db, m: { orgId: string; userId: string }): TransactItem[] {
  const plainMember = {
    ConditionExpression: "attribute_exists(pk) AND #role = :member",
    ExpressionAttributeNames: { "#role": "role" },
    ExpressionAttributeValues: { ":member": "member" },
  };
  return [
    { Delete: { TableName: db.table, Key: orgKeys.member(m.orgId, m.userId), ...plainMember } },
    { Delete: { TableName: db.table, Key: orgKeys.membership(m.userId, m.orgId), ...plainMember } },
  ];
}

/** Transaction item asserting that invite code `code` still opens org `orgId` (not rotated meanwhile). */
export const inviteOpensCheck = (db: Db, code: string, orgId: string): TransactItem => ({
  ConditionCheck: {
    TableName: db.table,
    Key: orgKeys.invite(code),
    ConditionExpression: "orgId = :org",
    ExpressionAttributeValues: { ":org": orgId },
  },
});

/**
 * Transaction items rotating an org's invite code: delete the old claim (if it still names the
 * org), claim the new code (if free) and point the org at it (if it still has the old one).
 */
export function rotateInviteItems(db: Db, p: { orgId: string; oldCode: string; newCode: string; at: string }): TransactItem[] {
  return [
    {
      Delete: {
        TableName: db.table,
        Key: orgKeys.invite(p.oldCode),
        ConditionExpression: "orgId = :org",
        ExpressionAttributeValues: { ":org": p.orgId },
      },
    },
    { Put: { TableName: db.table, Item: { ...orgKeys.invite(p.newCode), type: "InviteClaim", orgId: p.orgId }, ConditionExpression: NEW } },
    {
      Update: {
        TableName: db.table,
        Key: orgKeys.org(p.orgId),
        UpdateExpression: "SET inviteCode = :new, updatedAt = :at",
        ConditionExpression: "inviteCode = :old",
        ExpressionAttributeValues: { ":new": p.newCode, ":old": p.oldCode, ":at": p.at },
      },
    },
  ];
}

/** Transaction item asserting that user `userId` is a member of org `orgId`. */
export const membershipCheck = (db: Db, userId: string, orgId: string): TransactItem => ({
  ConditionCheck: { TableName: db.table, Key: orgKeys.membership(userId, orgId), ConditionExpression: "attribute_exists(pk)" },
});

/** Transaction item asserting that the org's monthly budget is still `budgetMicros` (none: still unset). */
export const orgBudgetCheck = (db: Db, orgId: string, budgetMicros: Micros | undefined): TransactItem => ({
  ConditionCheck: {
    TableName: db.table,
    Key: orgKeys.org(orgId),
    ConditionExpression: budgetMicros === undefined ? "attribute_exists(pk) AND attribute_not_exists(#budget)" : "#budget = :budget",
    ExpressionAttributeNames: { "#budget": "monthlyBudgetMicros" },
    ...(budgetMicros === undefined ? {} : { ExpressionAttributeValues: { ":budget": budgetMicros } }),
  },
});

/** Transaction item setting an org's monthly budget from `before` (the org must exist and its
 * budget still be `before`; none: still unset). */
export const setOrgBudgetItem = (db: Db, orgId: string, budgetMicros: Micros, at: string, before: Micros | undefined): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: orgKeys.org(orgId),
    UpdateExpression: "SET #budget = :budget, updatedAt = :at",
    ConditionExpression: before === undefined ? "attribute_exists(pk) AND attribute_not_exists(#budget)" : "#budget = :before",
    ExpressionAttributeNames: { "#budget": "monthlyBudgetMicros" },
    ExpressionAttributeValues: { ":budget": budgetMicros, ":at": at, ...(before === undefined ? {} : { ":before": before }) },
  },
});

const SPEND_NAMES = { "#type": "type", "#committed": "committedMicros", "#remaining": "remainingMicros", "#budget": "budgetMicros" };

/** Transaction item putting `budgetMicros` on an org's month spend (opening it), remaining = budget − committed. */
export const setSpendBudgetItem = (db: Db, p: { orgId: string; period: string; budgetMicros: Micros; at: string }): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: orgKeys.spend(p.orgId, p.period),
    UpdateExpression: [
      "SET #type = :type, orgId = :org, period = :period, updatedAt = :at, #budget = :budget",
      "#committed = if_not_exists(#committed, :zero)",
      "#remaining = :budget - if_not_exists(#committed, :zero)",
    ].join(", "),
    ExpressionAttributeNames: SPEND_NAMES,
    ExpressionAttributeValues: {
      ":type": "OrgSpend",
      ":org": p.orgId,
      ":period": p.period,
      ":at": p.at,
      ":budget": p.budgetMicros,
      ":zero": 0,
    },
  },
});

/**
 * Transaction item committing a job's estimate `micros` to an org's month spend, opening the month
 * at `budgetMicros` (the org's budget as read; none: no budget). With a budget it fails its
 * condition when the estimate does not fit in what is left; without one, when a budget appeared.
 */
export function commitSpendItem(
  db: Db,
  p: { orgId: string; period: string; micros: Micros; budgetMicros: Micros | undefined; at: string },
): TransactItem {
  const budget = p.budgetMicros;
  const fitsFreshMonth = budget !== undefined && p.micros <= budget;
  return {
    Update: {
      TableName: db.table,
      Key: orgKeys.spend(p.orgId, p.period),
      UpdateExpression: [
        "SET #type = :type, orgId = :org, period = :period, updatedAt = :at",
        "#committed = if_not_exists(#committed, :zero) + :micros",
        "#remaining = if_not_exists(#remaining, :opening) - :micros",
        ...(budget === undefined ? [] : ["#budget = :opening"]),
      ].join(", "),
      ConditionExpression:
        budget === undefined
          ? "attribute_not_exists(#budget)"
          : fitsFreshMonth
            ? "attribute_not_exists(#remaining) OR #remaining >= :micros"
            : "#remaining >= :micros",
      ExpressionAttributeNames: SPEND_NAMES,
      ExpressionAttributeValues: {
        ":type": "OrgSpend",
        ":org": p.orgId,
        ":period": p.period,
        ":at": p.at,
        ":zero": 0,
        ":micros": p.micros,
        ":opening": budget ?? 0,
      },
    },
  };
}

/** Transaction item changing an org's month spend by `deltaMicros` (a settled job: actual − estimate). */
export const adjustSpendItem = (db: Db, p: { orgId: string; period: string; deltaMicros: Micros; at: string }): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: orgKeys.spend(p.orgId, p.period),
    UpdateExpression:
      "SET #committed = if_not_exists(#committed, :zero) + :delta, #remaining = if_not_exists(#remaining, :zero) - :delta, updatedAt = :at",
    ExpressionAttributeNames: { "#committed": "committedMicros", "#remaining": "remainingMicros" },
    ExpressionAttributeValues: { ":delta": p.deltaMicros, ":zero": 0, ":at": p.at },
  },
});

/** Transaction item recording that job `jobId` was submitted in org `orgId` (for listing the org's jobs). */
export const putOrgJobItem = (db: Db, p: { orgId: string; jobId: string; ownerId: string; createdAt: string }): TransactItem => ({
  Put: { TableName: db.table, Item: { ...orgKeys.orgJob(p.orgId, p.jobId), type: "OrgJob", ...p }, ConditionExpression: NEW },
});

/** Ids of the jobs submitted in an org, newest first, a page at a time. */
export async function listOrgJobIds(db: Db, orgId: string, opts: { limit: number; afterId?: string }) {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": orgKeys.org(orgId).pk, ":prefix": orgKeys.orgJobPrefix() },
      ScanIndexForward: false,
      Limit: opts.limit + 1,
      ...(opts.afterId ? { ExclusiveStartKey: orgKeys.orgJob(orgId, opts.afterId) } : {}),
    }),
  );
  const ids = (Items ?? []).map((i) => i.jobId as string).slice(0, opts.limit);
  return { ids, lastId: (Items ?? []).length > opts.limit ? ids.at(-1) : undefined };
}

/** Get an org's spend for one month. */
export async function getSpendItem(db: Db, orgId: string, period: string, consistent = false): Promise<OrgSpendItem | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: orgKeys.spend(orgId, period), ConsistentRead: consistent }),
  );
  return Item as OrgSpendItem | undefined;
}

/** Records a budget alert unless that threshold already has one this month (PutItem, conditional). Returns whether it was new. */
export async function putAlertItemOnce(
  db: Db,
  a: { orgId: string; period: string; threshold: AlertThreshold; spendMicros: Micros; budgetMicros: Micros; at: string },
): Promise<boolean> {
  const item: BudgetAlertItem = { ...orgKeys.alert(a.orgId, a.period, a.threshold), type: "BudgetAlert", ...a };
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: item, ConditionExpression: NEW }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
