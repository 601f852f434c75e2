/** One admission pass per GPU type at a time in this process, triggers coalesced (Kueue's scheduler
 * loop): a trigger that arrives while a pass runs asks for one more pass after it, and every
 * trigger that arrives before that next pass begins is answered by it. So a burst of triggers
 * costs at most two passes, and a pass never runs beside another of its type here. The rule is
 * util/coalesce.ts's, keyed by table and GPU type; what a trigger adds (pools the pool index may
 * not show yet) waits here for the pass that answers it. */
import type { GpuType } from "../catalog/catalog";
import type { Core } from "../core";
import { coalesced } from "../util/coalesce";
import { admissionPass } from "./pass";

/** The pass not begun yet of each table#type: the core to run it with and the pools it must read. */
const asked = new Map<string, { core: Core; gpuType: GpuType; alsoPools: Set<string> }>();

const pass = coalesced((key) => {
  const next = asked.get(key)!;
  asked.delete(key);
  return admissionPass(next.core, next.gpuType, [...next.alsoPools]);
});

/**
 * Asks for an admission pass of `gpuType`; resolves with the ids that pass started once it has
 * ended (a pass that began after this call, so it sees everything committed before it).
 */
export function requestAdmission(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<string[]> {
  const key = `${core.db.table}#${gpuType}`;
  const next = asked.get(key) ?? { core, gpuType, alsoPools: new Set<string>() };
  for (const id of alsoPools) next.alsoPools.add(id);
  asked.set(key, next);
  return pass(key);
}
