/**
 * Properties of the pure ownership function (rendezvous hashing): determinism, minimal
 * movement when a member joins or leaves, balance, and the preference list.
 */
import fc from 'fast-check';
import { hash64, RendezvousTable, rendezvousKeyHash, rendezvousOwner } from '../../lib/core/index.js';

const url = (i: number) => `http://10.1.${i >> 8}.${i & 255}:3000/`;
const memberSet = fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 40 }).map((ids) => ids.map(url));
const keys = fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 50 });

describe('rendezvous hashing', () => {
  it('hashes a key as hash64 does, without allocating a result per lookup', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (key) => JSON.stringify(rendezvousKeyHash(key)) === JSON.stringify(hash64(key))));
  });

  it('is deterministic: the owner depends on the member set, not on its order or on who asks', () => {
    fc.assert(
      fc.property(memberSet, keys, fc.integer(), (members, ks, seed) => {
        const shuffled = [...members].sort(() => ((seed = (seed * 1103515245 + 12345) | 0) & 1 ? 1 : -1));
        const a = new RendezvousTable(members);
        const b = new RendezvousTable([...shuffled, ...shuffled]); // duplicates too
        return a.viewId() === b.viewId() && ks.every((k) => a.owner(k) === b.owner(k) && a.owner(k) === rendezvousOwner(k, members));
      }),
    );
  });

  it('moves only the leaver\'s keys when a member leaves, each to its runner-up', () => {
    fc.assert(
      fc.property(memberSet.filter((m) => m.length >= 2), keys, fc.nat(), (members, ks, pick) => {
        const leaver = members[pick % members.length];
        const before = new RendezvousTable(members);
        const after = new RendezvousTable(members.filter((m) => m !== leaver));
        return ks.every((k) => {
          const owner = before.owner(k);
          return owner === leaver ? after.owner(k) === before.owners(k, 2)[1] : after.owner(k) === owner;
        });
      }),
    );
  });

  it('moves keys only to a member that joins, never between members that stay', () => {
    fc.assert(
      fc.property(memberSet, keys, fc.integer({ min: 5001, max: 9000 }), (members, ks, joiner) => {
        const before = new RendezvousTable(members);
        const after = new RendezvousTable([...members, url(joiner)]);
        return ks.every((k) => after.owner(k) === before.owner(k) || after.owner(k) === url(joiner));
      }),
    );
  });

  it('gives the preference list: distinct members, the owner first, n capped at the member count', () => {
    fc.assert(
      fc.property(memberSet, fc.string(), fc.integer({ min: 0, max: 60 }), (members, key, n) => {
        const table = new RendezvousTable(members);
        const list = table.owners(key, n);
        return list.length === Math.min(n, members.length) && new Set(list).size === list.length && (n === 0 || list[0] === table.owner(key));
      }),
    );
  });

  it('balances 40,000 keys over 10 servers within 5 % of the mean, and moves 1/N of them on a leave or a join', () => {
    const members = Array.from({ length: 10 }, (_, i) => url(i));
    const table = new RendezvousTable(members);
    const counts = new Map<string, number>();
    for (let k = 0; k < 40_000; k++) {
      const owner = table.owner(`key-${k}`)!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    expect(Math.max(...counts.values()) / 4_000).toBeLessThanOrEqual(1.05);
    const without = new RendezvousTable(members.slice(1));
    const withOne = new RendezvousTable([...members, url(10)]);
    let left = 0;
    let joined = 0;
    for (let k = 0; k < 40_000; k++) {
      if (without.owner(`key-${k}`) !== table.owner(`key-${k}`)) left++;
      if (withOne.owner(`key-${k}`) !== table.owner(`key-${k}`)) joined++;
    }
    expect(left / 40_000).toBeLessThanOrEqual(1 / 10 + 0.01);
    expect(joined / 40_000).toBeLessThanOrEqual(1 / 11 + 0.01);
  });

  it('has no owner without members, and a 12-hex-digit view id that tells sets apart', () => {
    const empty = new RendezvousTable([]);
    expect(empty.owner('k')).toBeUndefined();
    expect(empty.owners('k', 3)).toEqual([]);
    const a = new RendezvousTable([url(1), url(2)]);
    expect(a.viewId()).toMatch(/^[0-9a-f]{12}$/);
    expect(new RendezvousTable([url(2), url(1)]).viewId()).toBe(a.viewId());
    expect(new RendezvousTable([url(1), url(3)]).viewId()).not.toBe(a.viewId());
    expect(empty.viewId()).not.toBe(a.viewId());
  });
  it('viewId is the first 12 zero-padded hex digits of hash64 over the URLs sorted by code unit', () => {
    // reference: members deduplicated, sorted by code unit, joined by newlines, member seed 0x2f6b9a1d
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    for (let s = 0; s < 300; s++) {
      const members = [`http://10.0.${s % 7}.${s}:80`, `http://10.0.${(s * 13) % 11}.${s + 1}:80`, `http://b${s}:1`, 'http://a:1'];
      const sorted = [...new Set(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const [h1, h2] = hash64(sorted.join('\n'), 0x2f6b9a1d);
      const id = new RendezvousTable([...members].reverse()).viewId();
      expect(id).toMatch(/^[0-9a-f]{12}$/);
      expect(id).toBe((hex(h1) + hex(h2)).slice(0, 12));
    }
  });
  it('size counts distinct members', () => {
    expect(new RendezvousTable([]).size).toBe(0);
    expect(new RendezvousTable(['http://b:1', 'http://a:1', 'http://b:1']).size).toBe(2);
  });
});
