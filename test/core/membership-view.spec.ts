import fc from 'fast-check';
import { compareEntries, describeChange, entriesOf, MembershipView, rankOf, stateOf, toWire, ViewDigest, leafOf, type MemberEntry, type ServerList } from '../../lib/core/index.js';

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

describe('compareEntries: the exact order, field by field', () => {
  const A = 'http://a:1/';
  const base: MemberEntry = { baseUrl: A, monitor: false, lastUpdate: 5, online: true };
  const alive = (extra: Partial<MemberEntry> = {}): MemberEntry => ({ ...base, ...extra });
  const suspect = (extra: Partial<MemberEntry> = {}): MemberEntry => ({ ...base, suspect: true, ...extra });
  const offline = (extra: Partial<MemberEntry> = {}): MemberEntry => ({ ...base, online: false, ...extra });
  // [a, b, compareEntries(a, b)]; each row is also checked the other way round (the opposite sign)
  const rows: [string, MemberEntry, MemberEntry, -1 | 0 | 1][] = [
    ['later stamp wins', alive({ lastUpdate: 6 }), alive(), 1],
    ['a later stamp wins over any state', alive({ lastUpdate: 6 }), offline({ by: 'http://z:1/', monitor: true, generation: 9 }), 1],
    ['stamps one apart at large values', alive({ lastUpdate: 1_800_000_000_001 }), alive({ lastUpdate: 1_800_000_000_000 }), 1],
    ['suspect beats alive', suspect(), alive(), 1],
    ['offline beats suspect', offline(), suspect(), 1],
    ['offline beats alive (by two ranks, still 1)', offline(), alive(), 1],
    ['offline and suspect flag: still offline, beats suspect', offline({ suspect: true }), suspect(), 1],
    ['offline with a suspect flag equals offline', offline({ suspect: true }), offline(), 0],
    ['state before monitor', suspect(), alive({ monitor: true }), 1],
    ['monitor beats non-monitor', alive({ monitor: true }), alive(), 1],
    ['monitor before the declarer', offline({ monitor: true, by: 'http://b:1/' }), offline(), 1],
    ['own word (no by) beats a declaration', offline(), offline({ by: 'http://b:1/' }), 1],
    ['an empty by counts as none', offline({ by: '' }), offline({ by: 'http://b:1/' }), 1],
    ['declarer names: the later URL wins', offline({ by: 'http://c:1/' }), offline({ by: 'http://b:1/' }), 1],
    ['declarer names on suspicions too', suspect({ by: 'http://c:1/' }), suspect({ by: 'http://b:1/' }), 1],
    ['declarer before generation', suspect({ by: 'http://c:1/' }), suspect({ by: 'http://b:1/', generation: 9 }), 1],
    ['the same declarer: equal', suspect({ by: 'http://b:1/' }), suspect({ by: 'http://b:1/' }), 0],
    ['later generation wins', alive({ generation: 8 }), alive({ generation: 7 }), 1],
    ['any generation beats none', alive({ generation: 1 }), alive(), 1],
    ['generation 0 is none', alive({ generation: 0 }), alive(), 0],
    ['equal generations: equal', alive({ generation: 7 }), alive({ generation: 7 }), 0],
    ['identical: equal', alive(), alive(), 0],
  ];
  it.each(rows)('%s', (_, a, b, expected) => {
    expect(compareEntries(a, b)).toBe(expected);
    expect(compareEntries(b, a)).toBe(expected === 0 ? 0 : -expected);
  });
});

describe('states and transitions in words', () => {
  const A = 'http://a:1/';
  it('stateOf and rankOf', () => {
    const rows: [Partial<MemberEntry>, string, number][] = [
      [{ online: true }, 'alive', 0],
      [{ online: true, suspect: false }, 'alive', 0],
      [{ online: true, suspect: true }, 'suspect', 1],
      [{ online: false }, 'offline', 2],
      [{ online: false, suspect: true }, 'offline', 2],
    ];
    for (const [extra, state, rank] of rows) {
      const e = { baseUrl: A, monitor: false, lastUpdate: 1, online: true, ...extra };
      expect([stateOf(e), rankOf(e)]).toEqual([state, rank]);
    }
  });

  it('describeChange: type, previous and reason of every transition', () => {
    const e = (extra: Partial<MemberEntry>): MemberEntry => ({ baseUrl: A, monitor: false, lastUpdate: 3, online: true, ...extra });
    const B = 'http://b:1/';
    expect(describeChange(e({}), undefined)).toEqual({ type: 'joined', server: e({}), reason: 'discovered (alive)' });
    expect(describeChange(e({ suspect: true, by: B }), undefined)).toEqual({ type: 'joined', server: e({ suspect: true, by: B }), reason: 'discovered (suspect)' });
    expect(describeChange(e({ online: false }), undefined)).toEqual({ type: 'joined', server: e({ online: false }), reason: 'discovered (offline)' });
    expect(describeChange(e({ online: false }), 'alive')).toEqual({ type: 'offline', server: e({ online: false }), previous: 'alive', reason: 'left' });
    expect(describeChange(e({ online: false, by: B }), 'suspect')).toEqual({ type: 'offline', server: e({ online: false, by: B }), previous: 'suspect', reason: `failed: declared by ${B}` });
    expect(describeChange(e({ suspect: true, by: B }), 'alive')).toEqual({ type: 'suspect', server: e({ suspect: true, by: B }), previous: 'alive', reason: `suspected by ${B}` });
    expect(describeChange(e({ suspect: true }), 'offline')).toEqual({ type: 'suspect', server: e({ suspect: true }), previous: 'offline', reason: 'suspected by a peer' });
    expect(describeChange(e({}), 'suspect')).toEqual({ type: 'online', server: e({}), previous: 'suspect', reason: 'refuted a suspicion' });
    expect(describeChange(e({}), 'offline')).toEqual({ type: 'online', server: e({}), previous: 'offline', reason: 'came back' });
    expect(describeChange(e({}), 'alive')).toEqual({ type: 'online', server: e({}), previous: 'alive', reason: 'came back' });
    // the change holds a copy: the caller's entry is not shared
    const entry = e({});
    expect(describeChange(entry, 'offline').server).not.toBe(entry);
  });
});

describe('MembershipView storage, wire form and digest', () => {
  const U = Array.from({ length: 400 }, (_, i) => `http://h${i}:1/`);
  /** The digest a fresh ViewDigest gives for exactly these entries. */
  const digestOf = (entries: MemberEntry[]) => {
    const d = new ViewDigest();
    for (const e of entries) d.toggleMember(e.baseUrl, e.lastUpdate, rankOf(e));
    return d.root();
  };

  it('stores a normalised copy: suspect only when online, by only on suspect or offline entries, generation only when set', () => {
    const view = new MembershipView();
    const rows: [MemberEntry, MemberEntry][] = [
      [{ baseUrl: U[0], monitor: true, lastUpdate: 1, online: true, by: U[9], generation: 0 }, { baseUrl: U[0], monitor: true, lastUpdate: 1, online: true }],
      [{ baseUrl: U[1], monitor: false, lastUpdate: 1, online: false, suspect: true, by: U[9], generation: 4 }, { baseUrl: U[1], monitor: false, lastUpdate: 1, online: false, by: U[9], generation: 4 }],
      [{ baseUrl: U[2], monitor: false, lastUpdate: 1, online: true, suspect: true, by: U[9] }, { baseUrl: U[2], monitor: false, lastUpdate: 1, online: true, suspect: true, by: U[9] }],
      [{ baseUrl: U[3], monitor: false, lastUpdate: 1, online: true, suspect: false, by: U[9] }, { baseUrl: U[3], monitor: false, lastUpdate: 1, online: true }],
      [{ baseUrl: U[4], monitor: false, lastUpdate: 1, online: false, by: '' }, { baseUrl: U[4], monitor: false, lastUpdate: 1, online: false }],
    ];
    for (const [i, [input, stored]] of rows.entries()) {
      const merged = i % 2 === 0 ? view.merge(input)!.entry : (view.set(input), view.get(input.baseUrl)!);
      expect(merged).toStrictEqual(stored);
      expect(view.get(input.baseUrl)).toStrictEqual(stored);
      expect(view.get(input.baseUrl)).not.toBe(input);
    }
  });

  it('keeps a frozen entry as it is, and stores what `share` returns', () => {
    const frozen = Object.freeze({ baseUrl: U[0], monitor: false, lastUpdate: 1, online: true, by: U[5] }) as MemberEntry;
    const view = new MembershipView();
    view.set(frozen);
    expect(view.get(U[0])).toBe(frozen);
    const table = new Map<string, MemberEntry>();
    const seen: MemberEntry[] = [];
    const share = (e: MemberEntry) => {
      seen.push(e);
      const key = JSON.stringify(e);
      if (!table.has(key)) table.set(key, Object.freeze(e));
      return table.get(key)!;
    };
    const a = new MembershipView(share);
    const b = new MembershipView(share);
    const input = { baseUrl: U[1], monitor: false, lastUpdate: 2, online: true, by: U[5] };
    a.merge(input);
    b.set(input);
    expect(a.get(U[1])).toBe(b.get(U[1]));
    expect(Object.isFrozen(a.get(U[1]))).toBe(true);
    expect(seen).toStrictEqual([{ baseUrl: U[1], monitor: false, lastUpdate: 2, online: true }, { baseUrl: U[1], monitor: false, lastUpdate: 2, online: true }]);
    expect(seen[0]).not.toBe(input);
  });

  it('counts servers per bucket and keeps the digest equal to a fresh hash of its entries, frozen or not', () => {
    const view = new MembershipView();
    const byBucket = new Map<number, string[]>();
    for (const u of U) byBucket.set(leafOf(u) >>> 6, [...(byBucket.get(leafOf(u) >>> 6) ?? []), u]);
    const [bucket, urls] = [...byBucket].find(([, us]) => us.length >= 3)!;
    const [x, y, z] = urls;
    const entries = new Map<string, MemberEntry>();
    const check = (sizes: number) => {
      expect(view.bucketSize(bucket)).toBe(sizes);
      expect(view.digest.root()).toBe(digestOf([...entries.values()]));
      expect(view.size).toBe(entries.size);
    };
    check(0);
    const put = (e: MemberEntry, how: 'merge' | 'set') => {
      if (how === 'merge') view.merge(e);
      else view.set(e);
      entries.set(e.baseUrl, e);
    };
    put({ baseUrl: x, monitor: false, lastUpdate: 1, online: true }, 'merge');
    check(1);
    put(Object.freeze({ baseUrl: y, monitor: false, lastUpdate: 1, online: true, suspect: true }), 'set');
    check(2);
    put({ baseUrl: x, monitor: false, lastUpdate: 2, online: false }, 'merge'); // replaces: same count
    check(2);
    put(Object.freeze({ baseUrl: y, monitor: false, lastUpdate: 3, online: false }), 'merge'); // a frozen entry replaced
    check(2);
    put(Object.freeze({ baseUrl: y, monitor: false, lastUpdate: 4, online: true }), 'set');
    check(2);
    put({ baseUrl: z, monitor: true, lastUpdate: 1, online: true }, 'set');
    check(3);
    expect(view.merge({ baseUrl: z, monitor: true, lastUpdate: 1, online: true })).toBeNull(); // equal: nothing
    check(3);
    expect(view.remove(y)).toStrictEqual({ baseUrl: y, monitor: false, lastUpdate: 4, online: true });
    entries.delete(y);
    check(2);
    expect(view.remove(y)).toBeNull(); // gone already: no count or hash change
    check(2);
    expect(view.remove(x)?.lastUpdate).toBe(2);
    entries.delete(x);
    check(1);
    expect([...view.keys()]).toEqual([z]);
    expect([...view.values()]).toStrictEqual([{ baseUrl: z, monitor: true, lastUpdate: 1, online: true }]);
  });

  it('serialises sorted by URL in each list, or in insertion order; the suspect list only when it holds any', () => {
    const view = new MembershipView();
    const order = ['http://c:1/', 'http://a:1/', 'http://d:1/', 'http://b:1/'];
    for (const u of order) view.merge({ baseUrl: u, monitor: false, lastUpdate: 1, online: true, generation: 3 });
    const wire = (u: string) => ({ baseUrl: u, monitor: false, lastUpdate: 1, generation: 3 });
    expect(view.toServerList()).toStrictEqual({ online: [...order].sort().map(wire), offline: [] });
    expect(view.toServerList(false)).toStrictEqual({ online: order.map(wire), offline: [] });
    view.merge({ baseUrl: 'http://e:1/', monitor: true, lastUpdate: 2, online: true, suspect: true, by: 'http://a:1/' });
    view.merge({ baseUrl: 'http://d:1/', monitor: false, lastUpdate: 2, online: false, by: 'http://a:1/' });
    view.merge({ baseUrl: 'http://a:1/', monitor: false, lastUpdate: 2, online: false });
    expect(view.toServerList()).toStrictEqual({
      online: ['http://b:1/', 'http://c:1/'].map(wire),
      offline: [
        { baseUrl: 'http://a:1/', monitor: false, lastUpdate: 2 },
        { baseUrl: 'http://d:1/', monitor: false, lastUpdate: 2, by: 'http://a:1/' },
      ],
      suspect: [{ baseUrl: 'http://e:1/', monitor: true, lastUpdate: 2, by: 'http://a:1/' }],
    });
  });

  it('sorts a large view (merge runs of a few hundred entries) by URL', () => {
    const view = new MembershipView();
    // a fixed permutation of 600 URLs: ascending and descending runs, as a sort meets them
    const ids = Array.from({ length: 600 }, (_, i) => (i * 389) % 600);
    for (const i of ids) view.merge({ baseUrl: `http://s${String(i).padStart(4, '0')}:1/`, monitor: false, lastUpdate: 1, online: true });
    const urls = view.toServerList().online.map((e) => e.baseUrl);
    expect(urls).toEqual(Array.from({ length: 600 }, (_, i) => `http://s${String(i).padStart(4, '0')}:1/`));
  });

  it('toWire keeps by only on suspect or offline entries and a non-zero generation', () => {
    const e = (extra: Partial<MemberEntry>): MemberEntry => ({ baseUrl: U[0], monitor: true, lastUpdate: 9, online: true, ...extra });
    const w = { baseUrl: U[0], monitor: true, lastUpdate: 9 };
    expect(toWire(e({ by: U[1], generation: 0 }))).toStrictEqual(w);
    expect(toWire(e({ suspect: true, by: U[1], generation: 2 }))).toStrictEqual({ ...w, by: U[1], generation: 2 });
    expect(toWire(e({ online: false, by: U[1] }))).toStrictEqual({ ...w, by: U[1] });
    expect(toWire(e({ online: false, by: '' }))).toStrictEqual(w);
    expect(toWire(e({ suspect: true }))).toStrictEqual(w);
  });

  it('entriesOf flattens online, suspect then offline, skipping lists that are not arrays', () => {
    const list = {
      online: [{ baseUrl: U[0], monitor: true, lastUpdate: 1 }, null],
      suspect: [{ baseUrl: U[1], monitor: false, lastUpdate: 2, by: U[0], generation: 5 }],
      offline: [{ baseUrl: U[2], monitor: false, lastUpdate: 3, by: U[1] }],
    } as unknown as ServerList;
    expect(entriesOf(list)).toStrictEqual([
      { baseUrl: U[0], monitor: true, lastUpdate: 1, online: true },
      { baseUrl: undefined, monitor: undefined, lastUpdate: undefined, online: true },
      { baseUrl: U[1], monitor: false, lastUpdate: 2, online: true, suspect: true, by: U[0], generation: 5 },
      { baseUrl: U[2], monitor: false, lastUpdate: 3, online: false, by: U[1] },
    ]);
    expect(entriesOf({ online: 'x', suspect: { 0: {} }, offline: 7 } as unknown as ServerList)).toStrictEqual([]);
    expect(entriesOf({ online: [] })).toStrictEqual([]);
  });
});
