/** Org read models: the jobs submitted in an org, with why each waits. */
import * as z from "zod";
import type { Actor } from "../auth/token";
import type { Core } from "../core";
import { ForbiddenError } from "../errors";
import { getJobItem } from "../job/store";
import { jobViews } from "../job/views";
import { decodeCursor, encodeCursor } from "../util/cursor";
import { parseInput } from "../util/fn";
import { isId } from "../util/id";
import { orgAccess } from "./access";
import { listOrgJobIds } from "./store";

export const ListOrgJobsInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
const OrgJobsCursor = z.object({ after: z.string().refine(isId) });

/** The jobs submitted in an org, newest first (its owner and admins). */
export async function listOrgJobs(core: Core, actor: Actor, orgId: string, body: unknown) {
  const input = parseInput(ListOrgJobsInput, body);
  const { role } = await orgAccess(core, actor, orgId);
  if (role !== "owner" && actor.role !== "admin") throw new ForbiddenError("Only the org's owner can list its jobs");
  const after = input.cursor ? decodeCursor(OrgJobsCursor, input.cursor).after : undefined;
  const page = await listOrgJobIds(core.db, orgId, { limit: input.limit, afterId: after });
  const jobs = await Promise.all(page.ids.map((id) => getJobItem(core.db, id)));
  return {
    items: await jobViews(
      core,
      jobs.flatMap((job) => (job ? [job] : [])),
    ),
    nextCursor: page.lastId ? encodeCursor({ after: page.lastId }) : null,
  };
}
