/**
 * Tombstone grace (docs/sync-and-state.md): a deleted or expired key is remembered for
 * `tombstoneGraceMs` after it was made or learned, so a stale copy cannot bring it back, and
 * is forgotten then, not earlier and not never. One ReplicatedState per server, on a manual
 * clock; every path that makes a tombstone is checked at grace − 1 ms and at grace.
 */
import { ReplicatedState, type StateDelta } from '../../lib/core/replicated-state.js';
import { ViewDigest } from '../../lib/core/view-digest.js';

const GRACE_MS = 60_000;
const T0 = 1_800_000_000_000;
const LIMITS = { maxKeyLength: 128, maxValueBytes: 4096, maxKeysPerServer: 256, tombstoneGraceMs: GRACE_MS };
const A = 'http://a:1/';
const B = 'http://b:1/';

function server(url: string, clock: { now: number }) {
  let last = 0;
  // a fresh version strictly above the last one: the hybrid clock's contract
  const tick = () => (last = Math.max(last + 1, clock.now));
  return new ReplicatedState(url, LIMITS, { now: () => clock.now, tick, acceptable: () => true, digest: new ViewDigest() });
}

/** What `state` holds about `key` of `owner`, tombstones included: the entry a full delta would carry. */
function held(state: ReplicatedState, owner: string, key: string) {
  return state.deltaFor(owner, 0, Infinity)?.entries.find((e) => e.key === key);
}

describe('tombstones are kept for the grace period, then forgotten', () => {
  it("the owner's delete: held until grace − 1 ms, reaped at grace, and the version range stays covered (floor)", () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    const written = a.setLocal('k', 'v').delta;
    const deleted = a.deleteLocal('k')!.delta;
    expect(deleted.entries).toEqual([{ key: 'k', version: expect.any(Number), deleted: true }]);
    clock.now = T0 + GRACE_MS - 1;
    a.expire();
    expect(held(a, A, 'k')).toEqual({ key: 'k', version: deleted.to, deleted: true });
    clock.now = T0 + GRACE_MS;
    a.expire();
    expect(held(a, A, 'k')).toBeUndefined();
    // a peer that saw only the write now needs a reset: the delete it never saw is forgotten here
    const forLagging = a.deltaFor(A, written.to, Infinity)!;
    expect(forLagging.floor).toBe(deleted.to);
  });

  it("a peer keeps the owner's tombstone for the grace period from when it learned it: a stale copy of the value cannot come back", () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    const b = server(B, clock);
    const written = a.setLocal('k', 'old').delta;
    b.apply(written);
    clock.now = T0 + 10_000;
    const deleted = a.deleteLocal('k')!.delta;
    clock.now = T0 + 20_000; // b learns of the delete 10 s after it was made
    expect(b.apply(deleted).changes).toEqual([{ type: 'update', server: A, key: 'k', value: undefined, version: deleted.to }]);
    const stale: StateDelta = { ...written, from: 0 };
    clock.now = T0 + 20_000 + GRACE_MS - 1;
    b.expire();
    expect(held(b, A, 'k')).toMatchObject({ deleted: true });
    expect(b.apply(stale).changes).toEqual([]);
    expect(b.get(A, 'k')).toBeUndefined();
    clock.now = T0 + 20_000 + GRACE_MS;
    b.expire();
    expect(held(b, A, 'k')).toBeUndefined();
  });

  it("the owner's expiry becomes a tombstone ('expired') at the time-to-live, kept for the grace period after it", () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    a.setLocal('lease', 'held', T0 + 5_000);
    clock.now = T0 + 4_999;
    expect(a.expire()).toEqual({ changes: [], deltas: [] });
    clock.now = T0 + 5_000;
    const { changes, deltas } = a.expire();
    expect(changes).toEqual([{ type: 'expire', server: A, key: 'lease', version: expect.any(Number) }]);
    expect(deltas[0].entries).toEqual([{ key: 'lease', version: expect.any(Number), deleted: true, expired: true }]);
    clock.now = T0 + 5_000 + GRACE_MS - 1;
    a.expire();
    expect(held(a, A, 'lease')).toMatchObject({ deleted: true, expired: true });
    clock.now = T0 + 5_000 + GRACE_MS;
    a.expire();
    expect(held(a, A, 'lease')).toBeUndefined();
  });

  it("a peer's copy expires on its own clock at the time-to-live, and is forgotten a grace period later", () => {
    const clock = { now: T0 };
    const a = server(A, clock);
    const b = server(B, clock);
    b.apply(a.setLocal('lease', 'held', T0 + 5_000).delta);
    clock.now = T0 + 5_000;
    expect(b.expire().changes).toEqual([{ type: 'expire', server: A, key: 'lease', version: expect.any(Number) }]);
    expect(b.get(A, 'lease')).toBeUndefined();
    clock.now = T0 + 5_000 + GRACE_MS - 1;
    expect(b.expire().changes).toEqual([]); // expired once, not again
    expect(held(b, A, 'lease')).toMatchObject({ value: 'held', ttlMs: 0 });
    clock.now = T0 + 5_000 + GRACE_MS;
    b.expire();
    expect(held(b, A, 'lease')).toBeUndefined();
  });

  it('a value that arrives already expired (time-to-live 0) is held as expired for the grace period', () => {
    const clock = { now: T0 };
    const b = server(B, clock);
    b.apply({ server: A, from: 0, to: 7, entries: [{ key: 'gone', version: 7, value: 1, ttlMs: 0 }] });
    expect(b.get(A, 'gone')).toBeUndefined();
    clock.now = T0 + GRACE_MS - 1;
    b.expire();
    expect(held(b, A, 'gone')).toMatchObject({ version: 7, ttlMs: 0 });
    clock.now = T0 + GRACE_MS;
    b.expire();
    expect(held(b, A, 'gone')).toBeUndefined();
  });

  it('a tombstone that arrives directly is held for the grace period from its arrival', () => {
    const clock = { now: T0 };
    const b = server(B, clock);
    clock.now = T0 + 30_000;
    b.apply({ server: A, from: 0, to: 9, entries: [{ key: 'x', version: 9, deleted: true }] });
    clock.now = T0 + 30_000 + GRACE_MS - 1;
    b.expire();
    expect(held(b, A, 'x')).toEqual({ key: 'x', version: 9, deleted: true });
    expect(b.apply({ server: A, from: 0, to: 8, entries: [{ key: 'x', version: 8, value: 'back?' }] }).changes).toEqual([]);
    clock.now = T0 + 30_000 + GRACE_MS;
    b.expire();
    expect(held(b, A, 'x')).toBeUndefined();
  });
});
