/**
 * Rendezvous hashing and key ownership, pinned where the property tests of
 * rendezvous-hash.spec.ts and coordination.spec.ts leave room (docs/mutation.md, "second
 * pass"): exact owners and preference lists against a reference model of the score, the ties
 * in the high 32 bits of the score (one in about 2^32 member pairs per key: the pairs below
 * were found by search), and the member set key ownership follows.
 */
import { ClusterEngine, hash64, RendezvousTable, rendezvousOwner, type EngineLifecycleEvent, type GossipServer, type GossipTransport } from '../../lib/core/index.js';
import { KeyOwnership, type OwnershipChange, type OwnershipSource } from '../../lib/core/key-ownership.js';

/** The reference model: the score of a key for a member, as rendezvous-hash.ts describes it. */
const MEMBER_SEED = 0x2f6b_9a1d;
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
function scoreOf(key: string, member: string): { hi: number; lo: number } {
  const [k1, k2] = hash64(key);
  const [m1, m2] = hash64(member, MEMBER_SEED);
  const lo = fmix32(k1 ^ m1);
  return { hi: fmix32(k2 ^ m2 ^ lo), lo };
}
/** Every member, best first: the higher score (high half, then low half), a tie to the smaller URL. */
function ranking(key: string, members: string[]): string[] {
  return [...new Set(members)]
    .map((url) => ({ url, ...scoreOf(key, url) }))
    .sort((a, b) => b.hi - a.hi || b.lo - a.lo || (a.url < b.url ? -1 : 1))
    .map((r) => r.url);
}

const node = (i: number) => `http://n${i}.test:1/`;

describe('rendezvous hashing, exact owners', () => {
  it('names the owner and the preference list of the reference model, for every key and list length', () => {
    const members = [3, 17, 250, 4_096, 77, 9, 1_000, 31_337].map(node);
    const table = new RendezvousTable(members);
    for (let k = 0; k < 200; k++) {
      const key = `key-${k}`;
      const expected = ranking(key, members);
      expect(table.owner(key)).toBe(expected[0]);
      for (let n = 2; n <= members.length + 1; n++) expect(table.owners(key, n)).toEqual(expected.slice(0, n));
    }
    // three lookups written out (computed with the model above): a change of the hashing moves them
    expect(table.owners('user:42', 3)).toEqual([node(3), node(250), node(1000)]);
    expect(table.owners('order-7', 3)).toEqual([node(250), node(9), node(3)]);
    expect(rendezvousOwner('', [...members].reverse())).toBe(node(9));
    expect(table.owners('', 3)).toEqual([node(9), node(250), node(4096)]);
  });

  it('lists its members in code-unit order whatever order they came in (300 of them: past insertion sort)', () => {
    const ids = Array.from({ length: 300 }, (_, i) => (i * 7_919) % 1_000);
    const urls = ids.map(node);
    const expected = [...new Set(urls)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(new RendezvousTable(urls).members).toEqual(expected);
    expect(new RendezvousTable([...urls].reverse()).members).toEqual(expected);
  });

  // Key 'tie': n3678 and n90982 score the same high half (410452315), as do n189189 and n30638
  // (2346389358); the low half decides, wherever the URL sorts.
  const TIES = [
    { smaller: node(3678), larger: node(90982), hi: 410_452_315, winner: node(3678) },
    { smaller: node(189189), larger: node(30638), hi: 2_346_389_358, winner: node(30638) },
  ];

  it.each(TIES)('breaks a tie in the high half by the low half ($winner wins, key "tie")', ({ smaller, larger, hi, winner }) => {
    const [a, b] = [scoreOf('tie', smaller), scoreOf('tie', larger)];
    expect([a.hi, b.hi]).toEqual([hi, hi]); // the tie the test is about
    expect(a.lo).not.toBe(b.lo);
    expect(winner).toBe(a.lo > b.lo ? smaller : larger);
    const loser = winner === smaller ? larger : smaller;
    expect(smaller < larger).toBe(true);
    for (const order of [
      [smaller, larger],
      [larger, smaller],
    ]) {
      const table = new RendezvousTable(order);
      expect(table.owner('tie')).toBe(winner);
      expect(table.owners('tie', 2)).toEqual([winner, loser]);
      expect(rendezvousOwner('tie', order)).toBe(winner);
    }
    // among more members, the tied pair keeps its order in the preference list
    const crowd = [smaller, larger, node(1), node(2), node(3), node(4)];
    const list = new RendezvousTable(crowd).owners('tie', crowd.length);
    expect(list).toEqual(ranking('tie', crowd));
    expect(list.indexOf(winner)).toBe(list.indexOf(loser) - 1);
  });
});

const T0 = 1_800_000_000_000;
const SELF = 'http://self:1/';
const P = 'http://p:1/';
const Q = 'http://q:1/';
const R = 'http://r:1/';
const HOUR = 3_600_000;

const noNetwork: GossipTransport = {
  exchange: () => Promise.reject(new Error('no network in this test')),
  probe: () => Promise.reject(new Error('no network in this test')),
  sync: () => Promise.reject(new Error('no network in this test')),
};

function world(retentionMs = 24 * HOUR) {
  const clock = { now: T0 };
  const engine = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0, retentionMs }, { now: () => clock.now, random: () => 0.5, transport: noNetwork });
  engine.start();
  let stamp = T0;
  const word = (baseUrl: string, extra: Partial<GossipServer> = {}): GossipServer => ({ baseUrl, monitor: false, lastUpdate: ++stamp, ...extra });
  return { clock, engine, word };
}

describe('key ownership, the eligible set', () => {
  it('an online member dropped from the view (no word for the retention period) owns nothing any more', () => {
    const { clock, engine, word } = world(HOUR);
    const ownership = new KeyOwnership(engine);
    const seen: OwnershipChange[] = [];
    ownership.onChange((c) => seen.push(c));
    engine.merge({ online: [word(P)] }, 'test');
    expect(ownership.members()).toEqual([P, SELF]);
    clock.now = T0 + HOUR + 60_000;
    const changes = engine.maintain();
    expect(changes).toContainEqual(expect.objectContaining({ type: 'removed', server: expect.objectContaining({ baseUrl: P, online: true }) }));
    expect(ownership.isEligible(P)).toBe(false);
    expect(ownership.members()).toEqual([SELF]);
    expect(seen.at(-1)).toEqual({ viewId: ownership.viewId(), added: [], removed: [P] });
  });

  it('a rebuild that drops several members reports them sorted, whatever order the view listed them in', () => {
    // a source that lists its members in the order given (as snapshot(false) may), driven by hand
    let online: string[] = [R, P, Q];
    const lifecycle: Array<(event: EngineLifecycleEvent) => void> = [];
    const source: OwnershipSource = {
      settings: { selfUrl: SELF },
      snapshot: () => ({ online: online.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: T0 })) }),
      onChange: () => () => undefined,
      onLifecycle: (listener) => (lifecycle.push(listener), () => undefined),
    };
    const ownership = new KeyOwnership(source);
    expect(ownership.members()).toEqual([P, Q, R]);
    const seen: OwnershipChange[] = [];
    ownership.onChange((c) => seen.push(c));
    online = [SELF];
    lifecycle.forEach((refresh) => refresh('started'));
    expect(seen).toEqual([{ viewId: ownership.viewId(), added: [SELF], removed: [P, Q, R] }]);
  });
});
