/**
 * ReplicatedState below the engine: how a delta from a peer is merged (apply), what a queued
 * delta carries when sent later (withTimeLeft), a claim about this server's own state, process
 * generations (newGeneration, drop), and the per-server byte bound a relay keeps (eviction of
 * the oldest dead keys). One ReplicatedState on a manual clock; deltas about B written by hand,
 * with small versions, as a peer would send them.
 */
import { ReplicatedState, type JsonValue, type StateDelta, type StateEntry } from '../../lib/core/replicated-state.js';
import { ViewDigest } from '../../lib/core/view-digest.js';

const GRACE_MS = 60_000;
const T0 = 1_800_000_000_000;
const LIMITS = { maxKeyLength: 128, maxValueBytes: 4096, maxKeysPerServer: 256, tombstoneGraceMs: GRACE_MS };
const A = 'http://a:1/';
/** 11 bytes: a reset about B takes 11 + 103 = 114 bytes besides its entries (resetEnvelope). */
const B = 'http://b:1/';
const ENVELOPE_B = 114;
/** What a one-character key takes in a reset (slotCost): `"k"` (3) + 72, plus 1 for the value 1 when live. */
const LIVE_COST = 76;
const TOMBSTONE_COST = 75;
const NONE = { changes: [], news: false, aboutSelfUnknown: false };

function server(clock: { now: number }, limits: typeof LIMITS & { maxBytesPerServer?: number } = LIMITS, digest = new ViewDigest()) {
  let last = 0;
  // a fresh version strictly above the last one: the hybrid clock's contract
  const tick = () => (last = Math.max(last + 1, clock.now));
  return new ReplicatedState(A, limits, { now: () => clock.now, tick, acceptable: () => true, digest });
}

const live = (key: string, version: number, value: JsonValue = 1, ttlMs?: number): StateEntry => (ttlMs === undefined ? { key, version, value } : { key, version, value, ttlMs });
const tomb = (key: string, version: number, expired = false): StateEntry => (expired ? { key, version, deleted: true, expired: true } : { key, version, deleted: true });
const about = (from: number, to: number, entries: StateEntry[], extra: Partial<StateDelta> = {}): StateDelta => ({ server: B, from, to, entries, ...extra });

/** Every entry held about B, tombstones included, as a full delta would carry them. */
const heldAboutB = (s: ReplicatedState) => s.deltaFor(B, 0, Infinity)?.entries ?? [];

describe('withTimeLeft: a queued delta as it should travel now', () => {
  it('about a server not held here: expiring entries go with no time left; the rest, tombstones included, as they are', () => {
    const a = server({ now: T0 });
    const d = about(0, 3, [live('x', 1, 'x', 500), live('y', 2), { key: 'z', version: 3, deleted: true, ttlMs: 7 }]);
    const out = a.withTimeLeft(d);
    expect(out).toEqual({ ...d, entries: [{ key: 'x', version: 1, value: 'x', ttlMs: 0 }, d.entries[1], d.entries[2]] });
    expect(out.entries[1]).toBe(d.entries[1]);
    // a tombstone is never rewritten, whatever it carries
    expect(out.entries[2]).toBe(d.entries[2]);
  });

  it('an entry superseded here: expiring goes with no time left, never as the newer key; without expiry it goes unchanged', () => {
    const clock = { now: T0 };
    const a = server(clock);
    a.apply(about(0, 5, [live('x', 5, 'new'), live('y', 4, 'new')]));
    const expiring = about(0, 1, [live('x', 1, 'old', 500)]);
    expect(a.withTimeLeft(expiring)).toEqual({ ...expiring, entries: [{ key: 'x', version: 1, value: 'old', ttlMs: 0 }] });
    const plain = about(0, 2, [live('y', 2, 'old')]);
    expect(a.withTimeLeft(plain)).toBe(plain);
  });

  it('nothing to change (the key held at that version, no expiry): the same delta object', () => {
    const a = server({ now: T0 });
    const d = about(0, 2, [live('y', 2)]);
    a.apply(d);
    expect(a.withTimeLeft(d)).toBe(d);
  });
});

describe('apply: a delta about this server', () => {
  it('never written here: versions we never issued are a stale claim, and nothing is stored', () => {
    const a = server({ now: T0 });
    expect(a.apply({ server: A, from: 0, to: 2, entries: [live('k', 2)] })).toEqual({ ...NONE, aboutSelfUnknown: true });
    expect(a.get(A, 'k')).toBeUndefined();
    expect(a.knownVersion(A)).toBe(0);
  });

  it('never written here, an empty delta up to 0: no claim', () => {
    const a = server({ now: T0 });
    expect(a.apply({ server: A, from: 0, to: 0, entries: [] })).toEqual(NONE);
  });

  it('an echo of our own writes or of our reset is no claim; a floor we never had is one', () => {
    const a = server({ now: T0 });
    const first = a.setLocal('k1', 1).delta;
    const second = a.setLocal('k2', 2).delta;
    expect(a.apply(first)).toEqual(NONE); // below our watermark
    expect(a.apply(second)).toEqual(NONE); // at it
    const third = a.setLocal('k3', 3).delta;
    // a peer's reset about us whose floor (second.to) is above ours (0): it forgot what we never did
    expect(a.apply({ server: A, from: 0, to: second.to, floor: second.to, entries: [live('k2', second.to, 2)] })).toEqual({ ...NONE, aboutSelfUnknown: true });
    expect(a.apply(third)).toEqual(NONE);
    const reset = a.refuteOwn();
    expect(reset.floor).toBe(reset.to);
    expect(a.apply(reset)).toEqual(NONE); // its floor is ours
  });

  it('of our generation it is judged by version; of another (a previous process at our URL) it is ignored', () => {
    const clock = { now: T0 };
    const a = server(clock);
    const generation = T0 - 10_000;
    a.startGeneration(generation);
    const written = a.setLocal('k', 1).delta;
    expect(a.apply({ server: A, from: 0, to: written.to + 5, generation, entries: [live('k', written.to + 5)] })).toEqual({ ...NONE, aboutSelfUnknown: true });
    expect(a.apply({ server: A, from: 0, to: written.to + 5, generation: generation - 1, entries: [live('k', written.to + 5)] })).toEqual(NONE);
    expect(a.get(A, 'k')).toBe(1);
  });
});

describe('apply: generations of a peer', () => {
  it('asks `welcome` only about a delta that names a generation; without `welcome` any generation is taken', () => {
    const a = server({ now: T0 });
    const welcome = (g: number) => g === 5;
    expect(a.apply(about(0, 1, [live('k', 1)]), welcome).news).toBe(true);
    expect(a.apply(about(0, 1, [live('k', 1)], { generation: 4 }), welcome)).toEqual(NONE);
    expect(a.apply(about(1, 2, [live('j', 2)], { generation: 9 })).news).toBe(true);
    expect(a.entriesOf(B)).toEqual({ k: 1, j: 1 });
  });

  it("a delta of another generation first forgets the previous process's keys, and the host hears them deleted", () => {
    const a = server({ now: T0 });
    a.apply(about(0, 1, [live('a', 1)], { generation: 1 }));
    expect(a.apply(about(0, 1, [live('b', 1)], { generation: 2 })).changes).toEqual([
      { type: 'update', server: B, key: 'a', value: undefined, version: 1 },
      { type: 'update', server: B, key: 'b', value: 1, version: 1 },
    ]);
    expect(a.entriesOf(B)).toEqual({ b: 1 });
    expect(a.deltaFor(B, 0, Infinity)).toEqual({ server: B, from: 0, to: 1, generation: 2, entries: [live('b', 1)] });
  });

  it('a delta or a state that names no generation is never taken for another process', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 1, [live('a', 1)], { generation: 1 }));
    expect(a.apply(about(1, 2, [live('b', 2)])).changes).toEqual([{ type: 'update', server: B, key: 'b', value: 1, version: 2 }]);
    expect(a.entriesOf(B)).toEqual({ a: 1, b: 1 });
    const c = server({ now: T0 });
    c.apply(about(0, 1, [live('a', 1)]));
    expect(c.apply(about(1, 2, [live('b', 2)], { generation: 5 })).changes).toEqual([{ type: 'update', server: B, key: 'b', value: 1, version: 2 }]);
    expect(c.entriesOf(B)).toEqual({ a: 1, b: 1 });
  });

  it('an empty delta about an unknown server holds nothing, not even its generation', () => {
    const a = server({ now: T0 });
    expect(a.apply(about(0, 0, [], { generation: 7 }))).toEqual(NONE);
    expect(a.knownVersion(B)).toBe(0);
    a.apply(about(0, 1, [live('k', 1)]));
    // held with no generation: a delta of generation 8 is not another process's, and none is
    // recorded (a started process names its generation in every delta; a restart of B is caught
    // by the view's newGeneration, which drops keys held without one)
    a.apply(about(1, 2, [live('j', 2)], { generation: 8 }));
    expect(a.entriesOf(B)).toEqual({ k: 1, j: 1 });
  });

  it('a delta without entries but with versions (all of them superseded at the sender) raises the watermark', () => {
    const a = server({ now: T0 });
    expect(a.apply(about(0, 5, []))).toEqual({ ...NONE, news: true });
    expect(a.knownVersion(B)).toBe(5);
  });
});

describe('apply: versions, gaps and resets', () => {
  it('the same delta twice, or an older one, is no news and changes nothing', () => {
    const a = server({ now: T0 });
    const d1 = about(0, 1, [live('k', 1, 'one')]);
    const d2 = about(1, 2, [live('j', 2, 'two')]);
    a.apply(d1);
    a.apply(d2);
    expect(a.apply(d2)).toEqual(NONE);
    expect(a.apply(d1)).toEqual(NONE);
    expect(a.knownVersion(B)).toBe(2);
    expect(a.entriesOf(B)).toEqual({ k: 'one', j: 'two' });
  });

  it('a delta past a gap is held but leaves the watermark where the versions stop being contiguous', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 1, [live('k', 1)]));
    expect(a.apply(about(5, 6, [live('g', 6)])).news).toBe(true);
    expect(a.knownVersion(B)).toBe(1);
    expect(a.get(B, 'g')).toBe(1);
  });

  it('a delta that is no reset removes nothing it does not list', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 1, [live('k1', 1)]));
    a.apply(about(1, 2, [live('k2', 2)]));
    expect(a.entriesOf(B)).toEqual({ k1: 1, k2: 1 });
  });

  it('a reset removes nothing where this server is not behind its floor (watermark at or above it)', () => {
    const above = server({ now: T0 });
    above.apply(about(0, 2, [live('k1', 1), live('k2', 2)]));
    above.apply(about(0, 2, [live('k2', 2)], { floor: 1 }));
    expect(above.entriesOf(B)).toEqual({ k1: 1, k2: 1 });
    const at = server({ now: T0 });
    at.apply(about(0, 2, [live('k1', 1), live('k2', 2)]));
    at.apply(about(0, 3, [live('k3', 3)], { floor: 2 }));
    expect(at.entriesOf(B)).toEqual({ k1: 1, k2: 1, k3: 1 });
  });

  it('a reset where this server is behind: removes the unlisted keys up to its `to`, keeps the listed and the newer, raises the floor', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 3, [live('x', 1, 'x'), live('z', 2, 'z'), tomb('t', 3)]));
    a.apply(about(5, 6, [live('g', 6, 'g')])); // past a gap: above any reset up to 4
    const result = a.apply(about(0, 4, [live('x', 1, 'x'), live('y', 4, 'y')], { floor: 4 }));
    // z was live: the host hears it deleted; the tombstone t goes silently; x, held at its version, is no change
    expect(result).toEqual({ changes: [{ type: 'update', server: B, key: 'z', value: undefined, version: 4 }, { type: 'update', server: B, key: 'y', value: 'y', version: 4 }], news: true, aboutSelfUnknown: false });
    expect(heldAboutB(a)).toEqual([live('x', 1, 'x'), live('y', 4, 'y'), live('g', 6, 'g')]);
    expect(a.knownVersion(B)).toBe(4);
    // a peer at 3 is below the floor now: it gets a reset
    expect(a.deltaFor(B, 3, Infinity)).toMatchObject({ from: 0, floor: 4 });
  });

  it('a reset removes an unlisted key at exactly its `to`', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 1, [live('a', 1)]));
    a.apply(about(2, 3, [live('c', 3)]));
    a.apply(about(0, 3, [live('b', 2)], { floor: 2 }));
    expect(a.entriesOf(B)).toEqual({ b: 1 });
  });
});

describe('apply: limits and what the host hears', () => {
  it('at maxKeysPerServer keys a relay takes updates of held keys but no new key', () => {
    const a = server({ now: T0 }, { ...LIMITS, maxKeysPerServer: 2 });
    a.apply(about(0, 2, [live('a', 1, 'a1'), live('b', 2, 'b2')]));
    expect(a.apply(about(2, 4, [live('a', 3, 'a3'), live('c', 4, 'c4')])).changes).toEqual([{ type: 'update', server: B, key: 'a', value: 'a3', version: 3 }]);
    expect(a.entriesOf(B)).toEqual({ a: 'a3', b: 'b2' });
  });

  it('a tombstone of a key never held is learnt silently', () => {
    const a = server({ now: T0 });
    expect(a.apply(about(0, 1, [tomb('k', 1)]))).toEqual({ ...NONE, news: true });
    expect(heldAboutB(a)).toEqual([tomb('k', 1)]);
  });

  it("a live key's tombstone: a delete is heard as an update to undefined, the owner's expiry as an expire", () => {
    const a = server({ now: T0 });
    a.apply(about(0, 2, [live('d', 1), live('e', 2)]));
    expect(a.apply(about(2, 3, [tomb('d', 3)])).changes).toEqual([{ type: 'update', server: B, key: 'd', value: undefined, version: 3 }]);
    expect(a.apply(about(3, 4, [tomb('e', 4, true)])).changes).toEqual([{ type: 'expire', server: B, key: 'e', version: 4 }]);
  });
});

describe('drop and newGeneration', () => {
  it('drop forgets a server: its keys, its watermark, and its place in the digest', () => {
    const digest = new ViewDigest();
    const empty = digest.root();
    const a = server({ now: T0 }, LIMITS, digest);
    a.apply(about(0, 1, [live('k', 1)]));
    expect(digest.root()).not.toBe(empty);
    a.drop(B);
    expect(a.knownVersion(B)).toBe(0);
    expect(a.get(B, 'k')).toBeUndefined();
    expect(digest.root()).toBe(empty);
    a.drop(B); // nothing held: nothing to do
    expect(digest.root()).toBe(empty);
  });

  it("newGeneration forgets the previous process's keys (the live ones are heard deleted), unless it is the same process or this server", () => {
    const digest = new ViewDigest();
    const empty = digest.root();
    const a = server({ now: T0 }, LIMITS, digest);
    a.apply(about(0, 2, [live('k', 1), tomb('t', 2)], { generation: 5 }));
    expect(a.newGeneration(B, 5)).toEqual([]);
    expect(a.entriesOf(B)).toEqual({ k: 1 });
    const own = a.setLocal('mine', 1).delta;
    expect(a.newGeneration(A, 99)).toEqual([]);
    expect(a.get(A, 'mine')).toBe(1);
    expect(a.newGeneration(B, 6)).toEqual([{ type: 'update', server: B, key: 'k', value: undefined, version: 1 }]);
    expect(a.knownVersion(B)).toBe(0);
    a.drop(A);
    expect(digest.root()).toBe(empty);
    expect(own.to).toBe(T0); // the first tick on a clock at T0
  });

  it('newGeneration without a generation (the peer named none) forgets a state that named none', () => {
    const a = server({ now: T0 });
    a.apply(about(0, 2, [live('k', 1), tomb('t', 2)]));
    expect(a.newGeneration(B, undefined)).toEqual([{ type: 'update', server: B, key: 'k', value: undefined, version: 1 }]);
    expect(heldAboutB(a)).toEqual([]);
  });
});

describe("this server's own deltas", () => {
  it('before any generation: from 0, and no generation field at all', () => {
    const a = server({ now: T0 });
    const { delta } = a.setLocal('k', 'v');
    // the first tick on a clock at T0
    expect(delta).toStrictEqual({ server: A, from: 0, to: T0, entries: [{ key: 'k', version: T0, value: 'v' }] });
  });

  it('the first write of a generation: from the generation stamp (peers below it get a reset), and naming it', () => {
    const a = server({ now: T0 });
    const generation = T0 - 10_000;
    expect(a.startGeneration(generation)).toBeNull();
    const { delta } = a.setLocal('k', 'v');
    // the first tick on a clock at T0
    expect(delta).toStrictEqual({ server: A, from: generation, to: T0, generation, entries: [{ key: 'k', version: T0, value: 'v' }] });
    expect(a.deltaFor(A, 0, Infinity)).toEqual({ server: A, from: 0, to: T0, floor: generation, generation, entries: [{ key: 'k', version: T0, value: 'v' }] });
  });
});

describe("a relay keeps another server's state within maxBytesPerServer", () => {
  it('goes over the bound by the oldest dead keys at or below the watermark, only as far as needed', () => {
    // x live, a live then a tombstone (it keeps its place in the map, before b), b a tombstone
    const total = ENVELOPE_B + LIVE_COST + TOMBSTONE_COST + TOMBSTONE_COST;
    const a = server({ now: T0 }, { ...LIMITS, maxBytesPerServer: total - TOMBSTONE_COST });
    a.apply(about(0, 2, [live('x', 1), live('a', 2)]));
    a.apply(about(2, 4, [tomb('b', 3), tomb('a', 4)]));
    expect(heldAboutB(a)).toEqual([live('x', 1), tomb('a', 4)]);
    expect(a.deltaFor(B, 2, Infinity)).toMatchObject({ from: 0, floor: 3 });
  });

  it('a dead key at the watermark can go; one above it (past a gap) stays: the floor never passes the watermark', () => {
    const at = server({ now: T0 }, { ...LIMITS, maxBytesPerServer: ENVELOPE_B + LIVE_COST + TOMBSTONE_COST - 1 });
    at.apply(about(0, 1, [live('x', 1)]));
    at.apply(about(1, 2, [tomb('t', 2)]));
    expect(heldAboutB(at)).toEqual([live('x', 1)]);
    expect(at.deltaFor(B, 1, Infinity)).toMatchObject({ from: 0, floor: 2 });
    const above = server({ now: T0 }, { ...LIMITS, maxBytesPerServer: ENVELOPE_B + LIVE_COST + TOMBSTONE_COST - 1 });
    above.apply(about(0, 1, [live('x', 1)]));
    above.apply(about(2, 3, [tomb('t', 3)]));
    expect(heldAboutB(above)).toEqual([live('x', 1), tomb('t', 3)]);
  });

  it('counts an overwritten key once: a state exactly at the bound keeps its tombstone', () => {
    const a = server({ now: T0 }, { ...LIMITS, maxBytesPerServer: ENVELOPE_B + TOMBSTONE_COST + LIVE_COST });
    a.apply(about(0, 1, [tomb('t', 1)]));
    a.apply(about(1, 2, [live('k', 2, 1)]));
    a.apply(about(2, 3, [live('k', 3, 2)]));
    expect(heldAboutB(a)).toEqual([tomb('t', 1), live('k', 3, 2)]);
  });

  it('a reset gives back the bytes of the keys it removes', () => {
    const a = server({ now: T0 }, { ...LIMITS, maxBytesPerServer: ENVELOPE_B + LIVE_COST + TOMBSTONE_COST });
    a.apply(about(0, 2, [live('z', 1), tomb('t', 2)]));
    a.apply(about(0, 4, [tomb('t', 2), live('y', 4)], { floor: 3 }));
    expect(heldAboutB(a)).toEqual([tomb('t', 2), live('y', 4)]);
  });

  it('a delta with nothing new changes nothing, even over the bound with a key expired since', () => {
    const clock = { now: T0 };
    const a = server(clock, { ...LIMITS, maxBytesPerServer: ENVELOPE_B + 2 * LIVE_COST - 2 });
    const d = about(0, 2, [live('x', 1, 1, 1_000), live('y', 2)]);
    a.apply(d); // over the bound, but nothing is dead
    clock.now = T0 + 2_000; // x has expired
    expect(a.apply(d)).toEqual(NONE);
    expect(heldAboutB(a)).toEqual([live('x', 1, 1, 0), live('y', 2)]);
  });

  it('reaping a tombstone above the watermark raises the floor only to the watermark', () => {
    const clock = { now: T0 };
    const a = server(clock);
    a.apply(about(0, 1, [live('x', 1)]));
    a.apply(about(2, 3, [tomb('t', 3)]));
    clock.now = T0 + GRACE_MS;
    a.expire();
    expect(a.deltaFor(B, 0, Infinity)).toEqual({ server: B, from: 0, to: 1, floor: 1, entries: [live('x', 1)] });
  });
});
