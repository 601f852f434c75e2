/** One admission pass per GPU type at a time in this process, triggers coalesced (Kueue's scheduler
 * loop): a trigger that arrives while a pass runs asks for one more pass after it, and every
 * trigger that arrives before that next pass begins is answered by it. So a burst of triggers
 * costs at most two passes, and a pass never runs beside another of its type here. */
import type { GpuType } from "../catalog/catalog";
import type { Core } from "../core";
import { admissionPass } from "./pass";

interface Slot {
  /** Settles when the last pass asked for so far has ended. */
  tail: Promise<unknown>;
  /** The pass asked for that has not begun yet: later triggers join it. */
  next?: Promise<string[]>;
  /** Pools the next pass must read although the pool index may not show them yet. */
  alsoPools: Set<string>;
}

const slots = new Map<string, Slot>();

/**
 * Asks for an admission pass of `gpuType`; resolves with the ids that pass started once it has
 * ended (a pass that began after this call, so it sees everything committed before it).
 */
export function requestAdmission(core: Core, gpuType: GpuType, alsoPools: readonly string[] = []): Promise<string[]> {
  const key = `${core.db.table}#${gpuType}`;
  let slot = slots.get(key);
  if (!slot) {
    slot = { tail: Promise.resolve(), alsoPools: new Set() };
    slots.set(key, slot);
  }
  const s = slot;
  for (const id of alsoPools) s.alsoPools.add(id);
  if (s.next) return s.next;
  const next = s.tail.then(() => {
    s.next = undefined;
    const pools = [...s.alsoPools];
    s.alsoPools.clear();
    return admissionPass(core, gpuType, pools);
  });
  s.next = next;
  s.tail = next.catch(() => undefined);
  return next;
}
