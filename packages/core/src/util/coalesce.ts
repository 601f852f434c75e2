/** Coalesced reads: at most one read per key in flight in this process, and every caller that asks
 * while one runs shares the next, which begins after the running one has ended and so after the
 * caller asked (the admission loop's rule, admission/loop.ts, for reads). A caller therefore always
 * gets a result read after its call began (after its own commit, when it wrote first), and a burst
 * of N callers costs at most two reads instead of N. A failed read fails the callers that shared it. */
export function coalesced<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const slots = new Map<string, { tail: Promise<unknown>; next?: Promise<T> }>();
  return (key) => {
    let slot = slots.get(key);
    if (!slot) {
      slot = { tail: Promise.resolve() };
      slots.set(key, slot);
    }
    const s = slot;
    if (s.next) return s.next;
    const next = s.tail.then(() => {
      s.next = undefined;
      return read(key);
    });
    s.next = next;
    s.tail = next.catch(() => undefined);
    // The last read of a key leaves no slot behind (keys are GPU types of a table: few, but tests make many tables).
    void s.tail.then(() => {
      if (slots.get(key) === s && !s.next) slots.delete(key);
    });
    return next;
  };
}
