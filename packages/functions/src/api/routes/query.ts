/** Query-string helpers shared by list routes. */
import type { Context } from "hono";

/** The list parameters a client sent; empty values count as absent. */
export function listQuery(c: Context) {
  const pick = (name: string) => c.req.query(name) || undefined;
  return { status: pick("status"), limit: pick("limit"), cursor: pick("cursor") };
}
