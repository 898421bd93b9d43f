/**
 * Key/value values are opaque JSON to the DTO layer. class-transformer, run on every body a
 * server receives, would copy each value key by key: it skips own keys named `__proto__` and
 * `constructor` and throws on a `constructor` that is not a function, so a receiver would store
 * a value other than the one its writer holds, or fail the whole request. The values are lifted
 * out of `state[].entries[]` before the transform and put back, untouched, after it; the engine
 * then checks them (sizes, reserved keys: state-wire's invalidDelta) and refuses what it must.
 */

interface Lifted {
  /** The body to transform: a shallow copy whose state values are null. */
  body: unknown;
  /** Puts the original values back into the transformed instance; returns it. */
  restore<T>(instance: T): T;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Lifts the state values out of a probe, ack or sync body (anything else passes through as is). */
export function liftStateValues(body: unknown): Lifted {
  if (!isRecord(body) || !Array.isArray(body.state)) return { body, restore: (instance) => instance };
  const lifted: { delta: number; entry: number; value: unknown }[] = [];
  const state = body.state.map((delta, d) => {
    if (!isRecord(delta) || !Array.isArray(delta.entries)) return delta;
    const entries = delta.entries.map((entry, e) => {
      if (!isRecord(entry) || !Object.hasOwn(entry, 'value')) return entry;
      lifted.push({ delta: d, entry: e, value: entry.value });
      return { ...entry, value: null };
    });
    return { ...delta, entries };
  });
  if (!lifted.length) return { body, restore: (instance) => instance };
  return {
    body: { ...body, state },
    restore(instance) {
      const deltas = (instance as { state?: unknown } | undefined)?.state;
      for (const { delta, entry, value } of lifted) {
        const target = Array.isArray(deltas) && isRecord(deltas[delta]) && Array.isArray(deltas[delta].entries) ? deltas[delta].entries[entry] : undefined;
        if (isRecord(target)) target.value = value;
      }
      return instance;
    },
  };
}
