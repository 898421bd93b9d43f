import fc from 'fast-check';
import { compareEntries, MembershipView, type MemberEntry } from '../../lib/core/index.js';

const urls = ['http://a:1/', 'http://b:2/', 'http://c:3/', 'http://[::1]:4/'];
const entryArb: fc.Arbitrary<MemberEntry> = fc
  .record({
    baseUrl: fc.constantFrom(...urls),
    monitor: fc.boolean(),
    lastUpdate: fc.integer({ min: 1, max: 20 }), // small range so equal stamps (ties) are common
    online: fc.boolean(),
    suspect: fc.boolean(),
    by: fc.option(fc.constantFrom(...urls), { nil: undefined }),
  })
  .map((e) => {
    const entry: MemberEntry = { baseUrl: e.baseUrl, monitor: e.monitor, lastUpdate: e.lastUpdate, online: e.online };
    if (e.online && e.suspect) entry.suspect = true;
    if (e.by && (!e.online || e.suspect)) entry.by = e.by;
    return entry;
  });

function viewOf(...batches: MemberEntry[][]): string {
  const view = new MembershipView();
  for (const batch of batches) for (const e of batch) view.merge(e);
  return JSON.stringify(view.toServerList());
}

describe('MembershipView merge (a join on a total order)', () => {
  it('is commutative: merging A then B equals B then A', () => {
    fc.assert(fc.property(fc.array(entryArb), fc.array(entryArb), (a, b) => viewOf(a, b) === viewOf(b, a)));
  });

  it('is associative: (A then B) then C equals A then (B then C) as views', () => {
    fc.assert(
      fc.property(fc.array(entryArb), fc.array(entryArb), fc.array(entryArb), (a, b, c) => {
        const bc = new MembershipView();
        for (const e of [...b, ...c]) bc.merge(e);
        const bcEntries = [...bc.values()];
        return viewOf(a, b, c) === viewOf(a, bcEntries);
      }),
    );
  });

  it('is idempotent: merging the same entries twice changes nothing', () => {
    fc.assert(fc.property(fc.array(entryArb), (a) => viewOf(a) === viewOf(a, a)));
  });

  it('converges for any order of delivery', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1 }), fc.func(fc.integer()), (entries, key) => {
        const shuffled = [...entries].sort((x, y) => key(x) - key(y));
        return viewOf(entries) === viewOf(shuffled) && viewOf(entries) === viewOf([...entries].reverse());
      }),
    );
  });

  it('orders entries: later stamp wins, then offline over online, then monitor', () => {
    const base = { baseUrl: urls[0], monitor: false, online: true, lastUpdate: 5 };
    expect(compareEntries({ ...base, lastUpdate: 6 }, base)).toBe(1);
    expect(compareEntries({ ...base, online: false }, base)).toBe(1);
    expect(compareEntries({ ...base, monitor: true }, base)).toBe(1);
    expect(compareEntries({ ...base, suspect: true }, base)).toBe(1);
    expect(compareEntries({ ...base, online: false }, { ...base, suspect: true })).toBe(1);
    expect(compareEntries(base, { ...base })).toBe(0);
  });

  it('reports the previous state of every transition', () => {
    const view = new MembershipView();
    const e = (lastUpdate: number, online: boolean, suspect = false): MemberEntry => ({ baseUrl: urls[0], monitor: false, online, lastUpdate, ...(suspect ? { suspect, by: urls[1] } : {}) });
    expect(view.merge(e(1, true))?.previous).toBeUndefined();
    expect(view.merge(e(1, true))).toBeNull();
    expect(view.merge(e(2, true, true))?.previous).toBe('alive');
    expect(view.toServerList()).toEqual({ online: [], offline: [], suspect: [{ baseUrl: urls[0], monitor: false, lastUpdate: 2, by: urls[1] }] });
    expect(view.merge(e(3, false))?.previous).toBe('suspect');
    expect(view.merge(e(2, true))).toBeNull();
    expect(view.merge(e(4, true))?.previous).toBe('offline');
    expect(view.remove(urls[0])?.online).toBe(true);
    expect(view.toServerList()).toEqual({ online: [], offline: [] });
  });
});
