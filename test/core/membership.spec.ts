import { Awareness } from '../../lib/core/awareness.js';
import { DEFAULT_ENGINE_SETTINGS, MAX_SERVERS } from '../../lib/core/engine-settings.js';
import type { MemberEntry, MembershipChange } from '../../lib/core/membership-view.js';
import { Membership } from '../../lib/core/membership.js';
import { PeerBook } from '../../lib/core/peer-book.js';
import { RateLimitedLog } from '../../lib/core/engine-log.js';

const SELF = 'http://self:1/';
const T0 = 1_800_000_000_000;

function setup(settings: Partial<typeof DEFAULT_ENGINE_SETTINGS> = {}) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const awareness = new Awareness(8, 2000);
  const peers = new PeerBook(SELF, { now });
  const membership = new Membership({ ...DEFAULT_ENGINE_SETTINGS, ...settings, selfUrl: SELF }, { now, peers, awareness, log: new RateLimitedLog(undefined, now) });
  const changes: MembershipChange[] = [];
  const applied: MemberEntry[] = [];
  const removed: string[] = [];
  membership.onChange((c) => changes.push(c));
  membership.onApplied((e) => applied.push(e));
  membership.onRemoved((u) => removed.push(u));
  return { clock, awareness, peers, membership, changes, applied, removed };
}

const entry = (baseUrl: string, lastUpdate: number, extra: Partial<MemberEntry> = {}) => ({ baseUrl, monitor: false, lastUpdate, ...extra });

describe('Membership', () => {
  it('starts by stamping itself online, and that entry is applied (queued for gossip)', () => {
    const { membership, applied } = setup();
    membership.start();
    expect(membership.self()).toEqual({ baseUrl: SELF, monitor: false, lastUpdate: T0, online: true, generation: T0 });
    expect(applied.map((e) => e.baseUrl)).toEqual([SELF]);
  });

  it('merges the later stamp and reports transitions; a newer stamp in the same state is no transition', () => {
    const { membership, changes, applied } = setup();
    membership.start();
    membership.merge({ online: [entry('http://a:1/', T0 - 10)] }, 'test');
    membership.merge({ online: [entry('http://a:1/', T0 - 5)] }, 'test');
    membership.merge({ online: [], offline: [entry('http://a:1/', T0 - 7)] }, 'test');
    expect(changes.map((c) => c.type)).toEqual(['joined']);
    expect(applied).toHaveLength(3); // self, a, a again
    membership.merge({ online: [], offline: [entry('http://a:1/', T0 - 1)] }, 'test');
    expect(changes.map((c) => [c.type, c.reason])).toEqual([
      ['joined', 'discovered (alive)'],
      ['offline', 'left'],
    ]);
  });

  it('refutes a newer rumour about itself with a later stamp and raises its local health score', () => {
    const { membership, awareness } = setup();
    membership.start();
    membership.merge({ online: [], offline: [entry(SELF, T0 + 50, { by: 'http://a:1/' })] }, 'test');
    const self = membership.self();
    expect(self.online).toBe(true);
    expect(self.lastUpdate).toBeGreaterThan(T0 + 50);
    expect(membership.stats.selfReassertions).toBe(1);
    expect(awareness.score).toBe(1);
  });

  it('refuses entries stamped beyond the skew bound or older than the retention, and counts them', () => {
    const { membership } = setup({ maxClockSkewMs: 60_000, retentionMs: 3_600_000 });
    membership.start();
    membership.merge({ online: [entry('http://future:1/', T0 + 60_001), entry('http://old:1/', T0 - 3_600_001), entry('http://ok:1/', T0 + 60_000)] }, 'test');
    expect(membership.get('http://future:1/')).toBeUndefined();
    expect(membership.get('http://old:1/')).toBeUndefined();
    expect(membership.get('http://ok:1/')).toBeDefined();
    expect(membership.stats.entriesRefused).toBe(2);
  });

  it('refuses malformed entries, foreign servers and addresses the peer book refuses', () => {
    const clock = { now: T0 };
    const peers = new PeerBook(SELF, { now: () => clock.now, acceptPeer: (u) => !u.includes('blocked') });
    const m = new Membership({ ...DEFAULT_ENGINE_SETTINGS, selfUrl: SELF }, { now: () => clock.now, peers, awareness: new Awareness(8, 0), log: new RateLimitedLog(undefined, () => clock.now) });
    m.start();
    peers.markForeign('http://foreign:1/');
    m.merge({ online: [entry('ftp://x:1/', T0), entry('http://blocked:1/', T0), entry('http://foreign:1/', T0), { baseUrl: 'http://a:1/', monitor: 'yes', lastUpdate: T0 } as never] }, 'test');
    expect(m.size).toBe(1);
    expect(m.stats.entriesRefused).toBe(4);
  });

  it('tracks a suspicion and its independent confirmers; an alive entry ends it', () => {
    const { membership } = setup();
    membership.start();
    membership.merge({ online: [entry('http://a:1/', T0 - 10)] }, 'test');
    membership.merge({ online: [], suspect: [entry('http://a:1/', T0 - 5, { by: 'http://b:1/' })] }, 'test');
    membership.merge({ online: [], suspect: [entry('http://a:1/', T0 - 4, { by: 'http://c:1/' })] }, 'test');
    expect([...membership.suspicion('http://a:1/')!.confirmers]).toEqual(['http://b:1/', 'http://c:1/']);
    membership.merge({ online: [entry('http://a:1/', T0 - 1)] }, 'test');
    expect(membership.suspicion('http://a:1/')).toBeUndefined();
  });

  it('declares with its own stamp and name, and counts every transition toward flap damping', () => {
    const { membership, changes } = setup({ flapThreshold: 1 });
    membership.start();
    membership.merge({ online: [entry('http://a:1/', T0 - 10)] }, 'test');
    const a = membership.get('http://a:1/')!;
    const suspected = membership.declare(a, 'suspect', T0);
    expect(suspected).toMatchObject({ type: 'suspect', server: { baseUrl: 'http://a:1/', by: SELF, online: true, suspect: true } });
    membership.declare(membership.get('http://a:1/')!, 'offline', T0);
    expect(changes.at(-1)).toMatchObject({ type: 'offline', reason: `failed: declared by ${SELF}` });
    // two transitions: penalty 2, threshold 1 → factor 2
    expect(membership.flapFactor('http://a:1/', T0)).toBe(2);
  });

  it('sweeps entries past retention at most once a minute, telling removal listeners first', () => {
    const { membership, clock, changes, removed } = setup({ retentionMs: 3_600_000 });
    membership.start();
    membership.merge({ online: [entry('http://a:1/', T0 - 100)] }, 'test');
    clock.now = T0 + 3_600_000;
    expect(membership.sweep(clock.now).map((c) => c.server.baseUrl)).toEqual(['http://a:1/']);
    expect(removed).toEqual(['http://a:1/']);
    expect(changes.at(-1)).toMatchObject({ type: 'removed', reason: 'no update for 1 h' });
    membership.merge({ online: [entry('http://b:1/', clock.now - 3_599_999)] }, 'test');
    clock.now += 30_000;
    expect(membership.sweep(clock.now)).toEqual([]); // within the minute: no walk
    clock.now += 30_000;
    expect(membership.sweep(clock.now).map((c) => c.server.baseUrl)).toEqual(['http://b:1/']);
  });

  it('renews its own stamp when due, so a live server never ages out', () => {
    const { membership, clock } = setup({ renewEveryMs: 1000 });
    membership.start();
    clock.now = T0 + 999;
    membership.renewIfDue(clock.now);
    expect(membership.self().lastUpdate).toBe(T0);
    clock.now = T0 + 1000;
    membership.renewIfDue(clock.now);
    expect(membership.self().lastUpdate).toBe(T0 + 1000);
  });

  it('preloads entries without events or gossip', () => {
    const { membership, changes, applied } = setup();
    membership.start();
    membership.preload([entry('http://a:1/', T0, { online: true }) as MemberEntry, { baseUrl: SELF, monitor: true, lastUpdate: T0 + 5, online: false }]);
    expect(membership.get('http://a:1/')).toBeDefined();
    expect(membership.self().online).toBe(true);
    expect(changes).toEqual([]);
    expect(applied).toHaveLength(1);
  });

  it('a full view admits an offline entry only in place of older offline ones, and refuses one older than them all', () => {
    const { membership, removed } = setup();
    membership.start();
    // self + 9,799 online + 200 offline (stamps T0 - 10,000 … T0 - 9,801): the bound exactly
    const online = Array.from({ length: MAX_SERVERS - 201 }, (_, i) => entry(`http://on-${i}:1/`, T0 - 1000, { online: true }));
    const offline = Array.from({ length: 200 }, (_, i) => entry(`http://off-${i}:1/`, T0 - 10_000 + i, { online: false }));
    membership.merge({ online, offline }, 'test');
    expect(membership.size).toBe(MAX_SERVERS);
    const refusedBefore = membership.stats.entriesRefused;

    // older than every offline entry held: refused, and nothing newer is evicted for it
    membership.merge({ online: [], offline: [entry('http://ancient:1/', T0 - 20_000)] }, 'test');
    expect(membership.get('http://ancient:1/')).toBeUndefined();
    expect(removed).toEqual([]);
    expect(membership.stats.entriesRefused).toBe(refusedBefore + 1);

    // newer than 50 of them: admitted in place of those 50 only
    membership.merge({ online: [], offline: [entry('http://recent:1/', T0 - 9_950)] }, 'test');
    expect(membership.get('http://recent:1/')).toBeDefined();
    expect(removed).toHaveLength(50);
    expect(removed.every((url) => membership.get(url) === undefined && Number(url.slice('http://off-'.length, -3)) < 50)).toBe(true);

    // full again; a live newcomer still gets in: the oldest offline entries make room (a hundredth of the view)
    membership.merge({ online: Array.from({ length: MAX_SERVERS - membership.size }, (_, i) => entry(`http://more-${i}:1/`, T0 - 1000, { online: true })) }, 'test');
    expect(membership.size).toBe(MAX_SERVERS);
    removed.length = 0;
    membership.merge({ online: [entry('http://newcomer:1/', T0, { online: true })] }, 'test');
    expect(membership.get('http://newcomer:1/')?.online).toBe(true);
    expect(removed).toHaveLength(100);
    expect(membership.size).toBeLessThanOrEqual(MAX_SERVERS);
  });
});
