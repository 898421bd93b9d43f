/**
 * ReplicatedState at its edges, one instance per server on a manual clock (as in
 * tombstones.spec.ts): what a value may be (assertPlainJson), the size, key and time-to-live
 * limits of setLocal at their exact bounds, deleteLocal, generations and refutation, the live
 * views (get, entriesOf, snapshot), and deltaFor's watermark, reset and byte budget.
 * Sizes are worked out by hand from the wire form (state-wire.ts) in the comments.
 */
import { MAX_STATE_TTL_MS, ReplicatedState, StateValueError, type JsonValue } from '../../lib/core/replicated-state.js';
import type { StateLimits } from '../../lib/core/engine-settings.js';
import { ViewDigest } from '../../lib/core/view-digest.js';

const T0 = 1_800_000_000_000;
const LIMITS: StateLimits = { maxKeyLength: 128, maxValueBytes: 4096, maxKeysPerServer: 256, tombstoneGraceMs: 60_000 };
const A = 'http://a:1/'; // 11 bytes
const B = 'http://b:1/';

/** A server whose clock stands at `clock.now`; versions are T0, T0 + 1, … while the clock stands still. */
function server(url: string, clock: { now: number }, limits: Partial<StateLimits> = {}) {
  let last = 0;
  const tick = () => (last = Math.max(last + 1, clock.now));
  return new ReplicatedState(url, { ...LIMITS, ...limits }, { now: () => clock.now, tick, acceptable: () => true, digest: new ViewDigest() });
}

/** `value` wrapped `levels` times in arrays (or objects): the innermost value sits at depth `levels`. */
function nested(levels: number, wrap: (v: JsonValue) => JsonValue): JsonValue {
  let v: JsonValue = 1;
  for (let i = 0; i < levels; i++) v = wrap(v);
  return v;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StateValueError);
    return (error as Error).message;
  }
  throw new Error('expected a StateValueError, nothing was thrown');
}

describe('ReplicatedState: what a value may be', () => {
  it('takes null, booleans, numbers, strings, arrays and plain objects (a null prototype included), at any place', () => {
    const a = server(A, { now: T0 });
    const bare = Object.assign(Object.create(null) as Record<string, JsonValue>, { x: 1 });
    const values: JsonValue[] = [null, true, false, 0, 'text', [null, true, 'x'], { a: null, b: false }, bare];
    values.forEach((value, i) => a.setLocal(`k${i}`, value));
    expect(values.map((_, i) => a.get(A, `k${i}`))).toEqual([null, true, false, 0, 'text', [null, true, 'x'], { a: null, b: false }, { x: 1 }]);
  });

  it('refuses what JSON would change: NaN and Infinity (inside arrays too), undefined, functions, class instances', () => {
    const a = server(A, { now: T0 });
    const numberMessage = 'value contains a number JSON cannot carry (NaN or Infinity)';
    expect(refusal(() => a.setLocal('k', NaN))).toBe(numberMessage);
    expect(refusal(() => a.setLocal('k', [1, Infinity]))).toBe(numberMessage);
    expect(refusal(() => a.setLocal('k', { list: [NaN] }))).toBe(numberMessage);
    expect(refusal(() => a.setLocal('k', undefined as unknown as JsonValue))).toBe('value is not JSON (undefined)');
    expect(refusal(() => a.setLocal('k', { a: undefined } as unknown as JsonValue))).toBe('value is not JSON (undefined)');
    expect(refusal(() => a.setLocal('k', (() => 1) as unknown as JsonValue))).toBe('value is not JSON (function)');
    expect(refusal(() => a.setLocal('k', new Date(0) as unknown as JsonValue))).toBe('value is not JSON (a class instance)');
    expect(a.entriesOf(A)).toEqual({});
  });

  it('takes values nested 32 levels deep and refuses 33, in arrays and in objects alike', () => {
    const a = server(A, { now: T0 });
    const inArray = (v: JsonValue) => [v];
    const inObject = (v: JsonValue) => ({ d: v });
    a.setLocal('arrays', nested(32, inArray));
    a.setLocal('objects', nested(32, inObject));
    expect(a.get(A, 'arrays')).toEqual(nested(32, inArray));
    expect(a.get(A, 'objects')).toEqual(nested(32, inObject));
    expect(refusal(() => a.setLocal('arrays', nested(33, inArray)))).toBe('value is nested deeper than 32 levels');
    expect(refusal(() => a.setLocal('objects', nested(33, inObject)))).toBe('value is nested deeper than 32 levels');
    expect(refusal(() => a.setLocal('mixed', nested(33, (v) => (Array.isArray(v) ? { d: v } : [v]))))).toBe('value is nested deeper than 32 levels');
  });
});

describe('ReplicatedState.setLocal: limits at their exact bounds', () => {
  it('takes a value of exactly maxValueBytes and refuses one byte more, naming the option', () => {
    const a = server(A, { now: T0 }, { maxValueBytes: 3 });
    a.setLocal('k', 'v'); // "v": 3 bytes
    expect(a.get(A, 'k')).toBe('v');
    expect(refusal(() => a.setLocal('k', 'vw'))).toBe('value of "k" is 4 bytes; the limit is 3 (option maxStateValueBytes)');
  });

  it('wants expiresAt strictly in the future and at most MAX_STATE_TTL_MS away', () => {
    const a = server(A, { now: T0 });
    expect(refusal(() => a.setLocal('k', 1, T0))).toBe('expiresAt of "k" must be a time in the future');
    expect(refusal(() => a.setLocal('k', 1, T0 + MAX_STATE_TTL_MS + 1))).toBe(
      `expiresAt of "k" is more than ${MAX_STATE_TTL_MS} ms (about 24.8 days) away; the longest time to live is ${MAX_STATE_TTL_MS} ms`,
    );
    const { delta } = a.setLocal('k', 1, T0 + MAX_STATE_TTL_MS);
    expect(delta.entries).toEqual([{ key: 'k', version: T0, value: 1, ttlMs: MAX_STATE_TTL_MS }]);
    a.setLocal('forever', 2);
    expect(a.deltaFor(A, T0, Infinity)!.entries).toStrictEqual([{ key: 'forever', version: T0 + 1, value: 2 }]);
  });

  it("keeps the whole state within maxBytesPerServer, counting an overwritten key once", () => {
    // a reset's envelope: 11 + 103 = 114 bytes; key "k" with value "v": 3 + 3 + 72 = 78 bytes; 192 in all
    expect(refusal(() => server(A, { now: T0 }, { maxBytesPerServer: 191 }).setLocal('k', 'v'))).toBe(
      `this server's state would take 192 bytes with "k"; at most 191 fit in one message (raise messageBudgetBytes, or delete keys: deleted ones count until forgotten)`,
    );
    const a = server(A, { now: T0 }, { maxBytesPerServer: 192 });
    a.setLocal('k', 'v');
    a.setLocal('k', 'w'); // the old value's 78 bytes give way to the new one's
    expect(a.get(A, 'k')).toBe('w');
    expect(refusal(() => a.setLocal('k', 'wx'))).toMatch(/^this server's state would take 193 bytes with "k"; at most 192/);
  });
});

describe('ReplicatedState: deleteLocal, generations, refutation', () => {
  it('deleteLocal: null before this server wrote anything, else the tombstone and the change the host hears', () => {
    const a = server(A, { now: T0 });
    expect(a.deleteLocal('k')).toBeNull();
    a.setLocal('k', 'v');
    expect(a.deleteLocal('k')).toStrictEqual({
      delta: { server: A, from: T0, to: T0 + 1, entries: [{ key: 'k', version: T0 + 1, deleted: true }] },
      change: { type: 'update', server: A, key: 'k', value: undefined, version: T0 + 1 },
    });
    expect(a.deleteLocal('k')).toBeNull();
  });

  it('startGeneration: null with nothing to re-issue or the same generation again; a reset under the new one otherwise', () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    expect(a.startGeneration(T0 - 10)).toBeNull();
    expect(a.setLocal('k', 'v').delta).toStrictEqual({ server: A, from: T0 - 10, to: T0, generation: T0 - 10, entries: [{ key: 'k', version: T0, value: 'v' }] });
    expect(a.startGeneration(T0 - 10)).toBeNull();
    expect(a.startGeneration(T0 - 5)).toStrictEqual({ server: A, from: 0, to: T0 + 1, floor: T0 + 1, generation: T0 - 5, entries: [{ key: 'k', version: T0 + 1, value: 'v' }] });
  });

  it('refuteOwn re-issues every key in version order above everything, and the floor is the last of them', () => {
    const a = server(A, { now: T0 });
    a.setLocal('a', 1); // T0
    a.setLocal('b', 2); // T0 + 1
    a.setLocal('a', 3); // T0 + 2: now older than b in insertion order, newer by version
    expect(a.refuteOwn()).toStrictEqual({
      server: A,
      from: 0,
      to: T0 + 4,
      floor: T0 + 4,
      entries: [
        { key: 'b', version: T0 + 3, value: 2 },
        { key: 'a', version: T0 + 4, value: 3 },
      ],
    });
  });

  it('refuteOwn with no keys still starts a generation: an empty reset at a fresh version', () => {
    const a = server(A, { now: T0 });
    expect(a.refuteOwn()).toStrictEqual({ server: A, from: 0, to: T0, floor: T0, entries: [] });
    expect(a.knownVersion(A)).toBe(T0);
  });
});

describe('ReplicatedState: live views', () => {
  it('entriesOf and snapshot list live keys only, and leave out servers with none', () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    a.setLocal('kept', 'v');
    a.setLocal('deleted', 'v');
    a.deleteLocal('deleted');
    a.setLocal('expiring', 'v', T0 + 10);
    a.apply({ server: B, from: 0, to: 5, entries: [{ key: 'gone', version: 5, deleted: true }] });
    clock.now = T0 + 10; // 'expiring' has expired here (expire() has not run yet)
    expect(Object.keys(a.entriesOf(A))).toEqual(['kept']);
    expect(Object.keys(a.entriesOf(B))).toEqual([]);
    expect(Object.keys(a.entriesOf('http://unknown:1/'))).toEqual([]);
    const snapshot = a.snapshot();
    expect(Object.keys(snapshot)).toEqual([A]);
    expect(snapshot[A]).toEqual({ kept: 'v' });
  });
});

describe('ReplicatedState.deltaFor: watermark, reset, budget', () => {
  /** a (T0), b (T0 + 1), then a again (T0 + 2): versions ascend b, a while insertion order is a, b. */
  function twoKeys(limits: Partial<StateLimits> = {}) {
    const a = server(A, { now: T0 }, limits);
    a.setLocal('a', 'x');
    a.setLocal('b', 'x');
    a.setLocal('a', 'x');
    return a;
  }
  // {"key":"b","version":1800000000001,"value":"x"} is 47 bytes, plus a comma: 48 per entry;
  // the envelope counts 64 + the URL's 11 characters = 75
  const ENTRY = JSON.stringify({ key: 'b', version: T0 + 1, value: 'x' }).length + 1;
  const BOTH = 64 + A.length + 2 * ENTRY;

  it('null for a peer at or above the watermark; entries above theirs, ascending by version, no floor or generation when none', () => {
    const a = twoKeys();
    expect(a.deltaFor(A, T0 + 2, Infinity)).toBeNull();
    expect(a.deltaFor(A, T0 + 3, Infinity)).toBeNull();
    expect(a.deltaFor(B, 0, Infinity)).toBeNull();
    expect(a.deltaFor(A, 0, Infinity)).toStrictEqual({
      server: A,
      from: 0,
      to: T0 + 2,
      entries: [
        { key: 'b', version: T0 + 1, value: 'x' },
        { key: 'a', version: T0 + 2, value: 'x' },
      ],
    });
  });

  it('a peer exactly at the floor gets a plain delta; below it, a reset with the floor and generation', () => {
    const a = server(A, { now: T0 });
    a.startGeneration(T0 - 10); // floor and watermark T0 - 10: a previous process wrote up to there
    a.setLocal('k', 'v');
    expect(a.deltaFor(A, T0 - 10, Infinity)).toStrictEqual({ server: A, from: T0 - 10, to: T0, generation: T0 - 10, entries: [{ key: 'k', version: T0, value: 'v' }] });
    expect(a.deltaFor(A, T0 - 11, Infinity)).toStrictEqual({ server: A, from: 0, to: T0, floor: T0 - 10, generation: T0 - 10, entries: [{ key: 'k', version: T0, value: 'v' }] });
  });

  it('cuts at the byte budget: both entries at exactly their size, the first alone one byte below', () => {
    expect(ENTRY).toBe(48);
    const a = twoKeys();
    expect(a.deltaFor(A, 0, BOTH)!.entries.map((e) => e.key)).toEqual(['b', 'a']);
    expect(a.deltaFor(A, 0, BOTH - 1)).toStrictEqual({ server: A, from: 0, to: T0 + 1, entries: [{ key: 'b', version: T0 + 1, value: 'x' }] });
  });

  it('never less than one entry, and a reset is never cut', () => {
    const a = twoKeys();
    expect(a.deltaFor(A, 0, 0)).toStrictEqual({ server: A, from: 0, to: T0 + 1, entries: [{ key: 'b', version: T0 + 1, value: 'x' }] });
    const reset = a.refuteOwn(); // floor T0 + 4: a peer at 0 needs a reset
    expect(a.deltaFor(A, 0, 0)).toStrictEqual(reset);
    expect(reset.entries).toHaveLength(2);
  });
});
