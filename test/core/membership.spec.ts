import { Awareness } from '../../lib/core/awareness.js';
import { DEFAULT_ENGINE_SETTINGS, MAX_SERVERS, type EngineSettings } from '../../lib/core/engine-settings.js';
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

/** A Membership with every listener and the log recorded, for the exact-behaviour tests below. */
function world(settings: Partial<EngineSettings> = {}, acceptPeer?: (url: string) => boolean) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const awareness = new Awareness(8, 2000);
  const lines: string[] = [];
  const log = new RateLimitedLog({ warn: (m) => lines.push(`warn: ${m}`), debug: (m) => lines.push(`debug: ${m}`) }, now);
  const peers = new PeerBook(SELF, { now, acceptPeer });
  const membership = new Membership({ ...DEFAULT_ENGINE_SETTINGS, ...settings, selfUrl: SELF }, { now, peers, awareness, log });
  const events: string[] = [];
  const changes: MembershipChange[] = [];
  membership.onChange((c) => {
    changes.push(c);
    events.push(`change ${c.type} ${c.server.baseUrl}`);
  });
  const applied: MemberEntry[] = [];
  membership.onApplied((e) => applied.push(e));
  const removed: string[] = [];
  membership.onRemoved((u) => {
    removed.push(u);
    events.push(`removed ${u}`);
  });
  const confirmations: MemberEntry[] = [];
  membership.onConfirmation((e) => confirmations.push(e));
  const newProcesses: string[] = [];
  membership.onNewProcess((u) => newProcesses.push(u));
  const rivals: MemberEntry[] = [];
  membership.onRival((e) => rivals.push(e));
  const generations: number[] = [];
  membership.onGeneration((g) => generations.push(g));
  return { clock, awareness, peers, membership, lines, events, changes, applied, removed, confirmations, newProcesses, rivals, generations };
}

const A = 'http://a:1/';
const B = 'http://b:1/';
const C = 'http://c:1/';
const alive = (baseUrl: string, lastUpdate: number, extra: Partial<MemberEntry> = {}) => ({ baseUrl, monitor: false, lastUpdate, ...extra });

describe('Membership: its own entry', () => {
  it('before start: generation 0, not running, an offline placeholder entry (a copy each time)', () => {
    const { membership } = world({ monitor: true });
    expect(membership.processGeneration).toBe(0);
    expect(membership.isRunning).toBe(false);
    expect(membership.hasYielded).toBe(false);
    const self = membership.self();
    expect(self).toStrictEqual({ baseUrl: SELF, monitor: true, lastUpdate: 0, online: false });
    self.online = true;
    expect(membership.self().online).toBe(false);
    expect(membership.size).toBe(0);
  });

  it('start, stop and start again: a new generation each time, told to generation listeners, and the change announced', () => {
    const { membership, changes, generations, applied } = world({ monitor: true });
    membership.start();
    expect(membership.isRunning).toBe(true);
    expect(generations).toEqual([T0]);
    expect(membership.processGeneration).toBe(T0);
    expect(changes).toEqual([]); // nothing before: no transition
    const self = membership.self();
    expect(self).toStrictEqual({ baseUrl: SELF, monitor: true, lastUpdate: T0, online: true, generation: T0 });
    self.online = false; // a copy
    expect(membership.get(SELF)!.online).toBe(true);
    expect(membership.setOnline(false)).toBe(true);
    expect(changes).toStrictEqual([{ type: 'offline', server: { baseUrl: SELF, monitor: true, lastUpdate: T0 + 1, online: false, generation: T0 }, previous: 'alive', reason: 'left' }]);
    membership.stop();
    expect(membership.isRunning).toBe(false);
    membership.start();
    expect(generations).toEqual([T0, T0 + 2]);
    expect(changes[1]).toStrictEqual({ type: 'online', server: { baseUrl: SELF, monitor: true, lastUpdate: T0 + 2, online: true, generation: T0 + 2 }, previous: 'offline', reason: 'started' });
    expect(applied.map((e) => [e.lastUpdate, e.online])).toEqual([
      [T0, true],
      [T0 + 1, false],
      [T0 + 2, true],
    ]);
  });

  it('setOnline: false when nothing changes, otherwise a restamp with "left" or "came back"', () => {
    const { membership, changes, applied } = world();
    // before start the placeholder is offline with stamp 0: asking offline still writes an entry
    expect(membership.setOnline(false)).toBe(true);
    expect(membership.self()).toStrictEqual({ baseUrl: SELF, monitor: false, lastUpdate: T0, online: false });
    expect(applied).toStrictEqual([{ baseUrl: SELF, monitor: false, lastUpdate: T0, online: false }]); // no generation yet
    expect(changes).toEqual([]);
    expect(membership.setOnline(false)).toBe(false);
    expect(membership.setOnline(true)).toBe(true);
    expect(changes).toStrictEqual([{ type: 'online', server: { baseUrl: SELF, monitor: false, lastUpdate: T0 + 1, online: true }, previous: 'offline', reason: 'came back' }]);
    expect(membership.setOnline(true)).toBe(false);
    expect(membership.self().lastUpdate).toBe(T0 + 1);
  });

  it('a listener that throws is logged; the others still hear the change', () => {
    const { membership, lines, changes } = world();
    membership.onChange(() => {
      throw new Error('boom');
    });
    membership.start();
    membership.setOnline(false);
    expect(lines).toEqual(['warn: membership listener threw: boom']);
    expect(changes.map((c) => c.type)).toEqual(['offline']);
  });

  it('a listener can unsubscribe', () => {
    const { membership } = world();
    const seen: string[] = [];
    const off = membership.onChange((c) => seen.push(c.type));
    membership.start();
    membership.setOnline(false);
    expect(off()).toBe(true);
    membership.setOnline(true);
    expect(seen).toEqual(['offline']);
  });

  it('renews only while running and not yielded, keeping its state', () => {
    const { membership, clock, changes } = world({ renewEveryMs: 1000 });
    membership.start();
    membership.setOnline(false);
    clock.now = T0 + 1001;
    membership.renewIfDue(clock.now);
    expect(membership.self()).toMatchObject({ online: false, lastUpdate: T0 + 1001 });
    expect(changes).toHaveLength(1); // only the leave
    membership.stop();
    clock.now = T0 + 5000;
    membership.renewIfDue(clock.now);
    expect(membership.self().lastUpdate).toBe(T0 + 1001);
    membership.start();
    membership.yieldAddress();
    clock.now = T0 + 9000;
    membership.renewIfDue(clock.now);
    expect(membership.self().lastUpdate).toBe(T0 + 5000);
  });

  it('yields its address: the entry leaves the view, self() keeps it; nothing is stamped until it is taken back', () => {
    const { membership, changes, applied, generations } = world();
    membership.start();
    membership.merge({ online: [alive(A, T0)] }, 'test');
    membership.reclaimAddress(); // not yielded: nothing
    expect(generations).toEqual([T0]);
    expect(membership.self().lastUpdate).toBe(T0);
    const before = membership.self();
    membership.yieldAddress();
    expect(membership.hasYielded).toBe(true);
    expect(membership.get(SELF)).toBeUndefined();
    expect(membership.size).toBe(1);
    expect(membership.self()).toStrictEqual(before);
    membership.yieldAddress(); // again: still the same last entry
    expect(membership.self()).toStrictEqual(before);
    const appliedBefore = applied.length;
    expect(membership.setOnline(false)).toBe(true);
    expect(membership.setOnline(false)).toBe(false);
    expect(membership.setOnline(true)).toBe(true);
    expect(membership.setOnline(false)).toBe(true);
    expect(membership.self()).toStrictEqual(before);
    expect(applied).toHaveLength(appliedBefore);
    expect(changes.filter((c) => c.server.baseUrl === SELF)).toEqual([]);
    // a rumour about us while yielded: no refutation
    membership.merge({ online: [], offline: [alive(SELF, T0 + 50, { by: A, generation: T0 })] }, 'test');
    expect(membership.stats.selfReassertions).toBe(0);
    expect(membership.get(SELF)).toBeUndefined();
    membership.reclaimAddress();
    expect(membership.hasYielded).toBe(false);
    expect(generations).toEqual([T0, T0 + 51]);
    expect(membership.processGeneration).toBe(T0 + 51);
    expect(membership.self()).toStrictEqual({ baseUrl: SELF, monitor: false, lastUpdate: T0 + 51, online: false, generation: T0 + 51 });
    expect(changes.filter((c) => c.server.baseUrl === SELF)).toStrictEqual([
      { type: 'offline', server: { baseUrl: SELF, monitor: false, lastUpdate: T0 + 51, online: false, generation: T0 + 51 }, previous: 'alive', reason: 'took its address back' },
    ]);
    membership.reclaimAddress(); // not yielded any more: nothing
    expect(generations).toHaveLength(2);
  });

  it('after taking its address back, the yielded entry is gone: removing our own entry leaves the placeholder', () => {
    const { membership } = world();
    membership.start();
    membership.yieldAddress();
    membership.reclaimAddress();
    membership.remove(SELF, 'test');
    expect(membership.self()).toStrictEqual({ baseUrl: SELF, monitor: false, lastUpdate: 0, online: false });
  });

  it('yielded before it ever started, it takes its address back online', () => {
    const { membership } = world();
    membership.yieldAddress();
    membership.reclaimAddress();
    expect(membership.self()).toStrictEqual({ baseUrl: SELF, monitor: false, lastUpdate: T0, online: true, generation: T0 });
  });

  it('start takes a yielded address back online, whatever was asked while yielded, and forgets the yielded entry', () => {
    const { membership, changes } = world();
    membership.start();
    membership.setOnline(false);
    membership.yieldAddress();
    membership.setOnline(false);
    membership.start();
    expect(membership.hasYielded).toBe(false);
    expect(membership.self()).toMatchObject({ online: true, lastUpdate: T0 + 2 });
    // the yielded entry is not the "before" of the new one: no transition announced
    expect(changes.map((c) => c.type)).toEqual(['offline']);
    membership.yieldAddress();
    membership.reclaimAddress();
    expect(membership.self()).toMatchObject({ online: true, lastUpdate: T0 + 3 });
  });
});

describe('Membership.merge: rumours about itself and rivals for its address', () => {
  it('refutes only a strictly newer rumour, keeping its own state, and only while running', () => {
    const { membership, awareness, changes } = world();
    membership.start();
    membership.merge({ online: [alive(SELF, T0, { generation: T0 })] }, 'test'); // our own entry, equal
    membership.merge({ online: [alive(SELF, T0 - 1, { generation: T0 })], offline: [alive(SELF, T0 - 1, { generation: T0, by: A })] }, 'test');
    expect(membership.stats.selfReassertions).toBe(0);
    expect(membership.self().lastUpdate).toBe(T0);
    membership.setOnline(false);
    membership.merge({ online: [alive(SELF, T0 + 10, { generation: T0 })] }, 'test');
    expect(membership.stats.selfReassertions).toBe(1);
    expect(awareness.score).toBe(1);
    expect(membership.self()).toStrictEqual({ baseUrl: SELF, monitor: false, lastUpdate: T0 + 11, online: false, generation: T0 });
    expect(changes.map((c) => c.type)).toEqual(['offline']); // a refutation is no transition
    membership.stop();
    membership.merge({ online: [alive(SELF, T0 + 20, { generation: T0 })] }, 'test');
    expect(membership.stats.selfReassertions).toBe(1);
    expect(membership.self().lastUpdate).toBe(T0 + 11);
  });

  it('a newer word from another generation at our URL is a rival: the newest of a merge is told once', () => {
    const { membership, rivals } = world();
    membership.start();
    membership.merge({ online: [alive(SELF, T0 + 5, { generation: T0 - 100 }), alive(SELF, T0 + 9, { generation: T0 - 50 }), alive(SELF, T0 + 7, { generation: T0 - 70 })] }, 'test');
    expect(rivals).toStrictEqual([{ baseUrl: SELF, monitor: false, lastUpdate: T0 + 9, online: true, generation: T0 - 50 }]);
    // our own generation, or none: no rival, though newer
    membership.merge({ online: [alive(SELF, T0 + 30, { generation: T0 }), alive(SELF, T0 + 31)] }, 'test');
    expect(rivals).toHaveLength(1);
    // another generation but older than our entry: no rival while we hold the address
    membership.merge({ online: [alive(SELF, T0 - 5, { generation: T0 - 100 })] }, 'test');
    expect(rivals).toHaveLength(1);
    // an equal stamp that wins on generation is newer: a rival
    const stamp = membership.self().lastUpdate;
    membership.merge({ online: [alive(SELF, stamp, { generation: T0 + 1_000_000 })] }, 'test');
    expect(rivals.at(-1)).toMatchObject({ lastUpdate: stamp, generation: T0 + 1_000_000 });
    expect(rivals).toHaveLength(2);
  });

  it('generation 0 on a word about us is no generation: not a rival', () => {
    const { membership, rivals } = world();
    membership.start();
    membership.merge({ online: [alive(SELF, T0 + 5, { generation: 0 })] }, 'test');
    expect(rivals).toEqual([]);
    expect(membership.stats.selfReassertions).toBe(1);
  });

  it('while yielded, any word of another generation is a rival, newer or not; not while stopped', () => {
    const { membership, rivals } = world();
    membership.start();
    membership.yieldAddress();
    membership.merge({ online: [], offline: [alive(SELF, T0 - 5, { generation: T0 - 100, by: A }), alive(SELF, T0 - 9, { generation: T0 - 200, by: A })] }, 'test');
    expect(rivals).toStrictEqual([{ baseUrl: SELF, monitor: false, lastUpdate: T0 - 5, online: false, by: A, generation: T0 - 100 }]);
    membership.merge({ online: [alive(SELF, T0 - 5, { generation: T0 })] }, 'test'); // our generation
    expect(rivals).toHaveLength(1);
    membership.stop();
    membership.merge({ online: [alive(SELF, T0 + 5, { generation: T0 - 100 })] }, 'test');
    expect(rivals).toHaveLength(1);
  });
});

describe('Membership.merge: what it refuses, and how it reads an entry', () => {
  it('logs a future stamp with its distance and the bound, and the source escaped', () => {
    const { membership, lines } = world({ maxClockSkewMs: 60_000 });
    membership.start();
    membership.merge({ online: [alive('http://future:1/', T0 + 60_250)] }, 'peer\nX');
    expect(lines).toEqual(['warn: refused http://future:1/ from peer\\u000aX: stamped 60250 ms in the future (bound 60000 ms; is a clock wrong?)']);
    expect(membership.stats.entriesRefused).toBe(1);
  });

  it('accepts an entry exactly at the retention bound and moves its clock to accepted stamps', () => {
    const { membership } = world({ retentionMs: 3_600_000, maxClockSkewMs: 60_000 });
    membership.start();
    membership.merge({ online: [alive(A, T0 - 3_600_000), alive(B, T0 + 500)] }, 'test');
    expect(membership.get(A)?.lastUpdate).toBe(T0 - 3_600_000);
    expect(membership.stats.entriesRefused).toBe(0);
    membership.setOnline(false);
    expect(membership.self().lastUpdate).toBe(T0 + 501);
  });

  it('refuses entries it cannot read, and counts each', () => {
    const { membership } = world();
    membership.start();
    const bad = [null, { baseUrl: A, monitor: 1, lastUpdate: T0 }, { baseUrl: A, monitor: false, lastUpdate: T0 + 0.5 }, { baseUrl: A, monitor: false, lastUpdate: String(T0) }, { baseUrl: A, monitor: false, lastUpdate: 2 ** 53 }, { baseUrl: 'not a url', monitor: false, lastUpdate: T0 }, { baseUrl: 7, monitor: false, lastUpdate: T0 }];
    membership.merge({ online: bad as never }, 'test');
    // a suspect or offline entry whose declarer is not a URL is refused whole
    membership.merge({ online: [], suspect: [alive(B, T0, { by: 'nope' })], offline: [alive(C, T0, { by: 'nope' })] }, 'test');
    expect(membership.stats.entriesRefused).toBe(9);
    expect(membership.size).toBe(1);
  });

  it('normalises URLs, keeps the declarer only on suspect and offline entries, and a positive integer generation', () => {
    const { membership } = world();
    membership.start();
    membership.merge(
      {
        online: [alive('HTTP://A:1', T0, { by: 'not even a URL', generation: 0 }), alive('http://d:1/', T0, { by: B, generation: -3 }), alive('http://e:1/', T0, { by: 5, generation: 1.5 } as never)],
        suspect: [alive('http://B:1', T0, { by: 'HTTP://C:1', generation: 7 }), alive('http://f:1/', T0, { by: 5 } as never)],
        offline: [alive(C, T0, { by: 'http://A:1', generation: 2 ** 53 }), alive('http://g:1/', T0, { generation: 1 })],
      },
      'test',
    );
    expect(membership.snapshot()).toStrictEqual({
      online: [alive(A, T0), alive('http://d:1/', T0), alive('http://e:1/', T0), alive(SELF, T0, { generation: T0 })],
      offline: [alive(C, T0, { by: A }), alive('http://g:1/', T0, { generation: 1 })],
      suspect: [alive(B, T0, { by: C, generation: 7 }), alive('http://f:1/', T0)],
    });
    expect(membership.stats.entriesRefused).toBe(0);
    expect(membership.suspicion('http://f:1/')?.confirmers).toEqual(new Set(['unknown']));
    expect(membership.suspicion(B)?.confirmers).toEqual(new Set([C]));
  });

  it('the address policy applies to new servers only: not to ones in the view, nor to its own URL', () => {
    const { membership, lines } = world({}, (url) => url !== A && url !== SELF && !url.includes('blocked'));
    membership.start();
    membership.preload([{ baseUrl: A, monitor: false, lastUpdate: T0 - 10, online: true }]);
    membership.merge({ online: [alive(A, T0 - 5), alive('http://blocked:1/', T0)] }, 'test');
    expect(membership.get(A)?.lastUpdate).toBe(T0 - 5);
    expect(membership.get('http://blocked:1/')).toBeUndefined();
    expect(lines).toEqual(['debug: refused http://blocked:1/: not an address this server accepts']);
    expect(membership.stats.entriesRefused).toBe(1);
    membership.merge({ online: [], offline: [alive(SELF, T0 + 5, { by: B, generation: T0 })] }, 'test');
    expect(membership.stats.selfReassertions).toBe(1);
    expect(membership.stats.entriesRefused).toBe(1);
  });

  it('a word about its own URL passes even a policy that refuses it, while yielded too', () => {
    const { membership, rivals } = world({}, (url) => url !== SELF);
    membership.start();
    membership.yieldAddress();
    membership.merge({ online: [alive(SELF, T0 - 5, { generation: T0 - 100 })] }, 'test');
    expect(rivals).toHaveLength(1);
    expect(membership.stats.entriesRefused).toBe(0);
  });

  it('a foreign server is refused until a newer process of it speaks', () => {
    const { membership, peers, clock } = world();
    membership.start();
    clock.now = T0 + 100;
    peers.markForeign(A);
    membership.merge({ online: [alive(A, T0 + 100, { generation: T0 + 100 }), alive(A, T0 + 100), alive('HTTP://A:1', T0 + 100)] }, 'test');
    expect(membership.get(A)).toBeUndefined();
    expect(membership.stats.entriesRefused).toBe(3);
    membership.merge({ online: [alive(A, T0 + 100, { generation: T0 + 101 })] }, 'test');
    expect(membership.get(A)?.generation).toBe(T0 + 101);
  });
});

describe('Membership: verdicts, suspicions, confirmations and flaps', () => {
  it('declare: suspect stays online with our name, offline is online false; a losing verdict changes nothing', () => {
    const { membership, changes } = world();
    membership.start();
    membership.merge({ online: [alive(A, T0 - 10, { generation: 3 })] }, 'test');
    const a = membership.get(A)!;
    expect(membership.declare(a, 'suspect', T0)).toStrictEqual({ type: 'suspect', server: { baseUrl: A, monitor: false, lastUpdate: T0 - 10, online: true, suspect: true, by: SELF, generation: 3 }, previous: 'alive', reason: `suspected by ${SELF}` });
    expect(membership.declare(membership.get(A)!, 'offline', T0)).toStrictEqual({ type: 'offline', server: { baseUrl: A, monitor: false, lastUpdate: T0 - 10, online: false, by: SELF, generation: 3 }, previous: 'suspect', reason: `failed: declared by ${SELF}` });
    expect(changes).toHaveLength(3);
    expect(membership.declare(a, 'suspect', T0)).toBeNull(); // offline beats suspect at one stamp
    expect(changes).toHaveLength(3);
    expect(membership.get(A)?.online).toBe(false);
  });

  it('a suspicion starts at the time of the merge, gathers declarers, and ends with the suspect state', () => {
    const { membership, clock } = world();
    membership.start();
    clock.now = T0 + 7;
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: B })] }, 'test');
    expect(membership.suspicion(A)).toStrictEqual({ startedAt: T0 + 7, confirmers: new Set([B]) });
    expect([...membership.suspicions()]).toStrictEqual([[A, { startedAt: T0 + 7, confirmers: new Set([B]) }, { baseUrl: A, monitor: false, lastUpdate: T0 - 5, online: true, suspect: true, by: B }]]);
    membership.restartSuspicions(T0 + 99);
    expect(membership.suspicion(A)?.startedAt).toBe(T0 + 99);
    // offline ends it
    membership.merge({ online: [], offline: [alive(A, T0 - 4)] }, 'test');
    expect(membership.suspicion(A)).toBeUndefined();
    expect([...membership.suspicions()]).toEqual([]);
  });

  it('suspicions() drops, as it meets it, a suspicion whose entry is no longer suspect', () => {
    const { membership } = world();
    membership.start();
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: B }), alive(C, T0 - 5, { by: B })] }, 'test');
    membership.preload([{ baseUrl: A, monitor: false, lastUpdate: T0 - 1, online: true }]);
    expect(membership.suspicion(A)).toBeDefined();
    expect([...membership.suspicions()].map(([url]) => url)).toEqual([C]);
    expect(membership.suspicion(A)).toBeUndefined();
    expect(membership.suspicion(C)).toBeDefined();
  });

  it('a confirmation: the same stamp, another declarer that loses on its name, counted and passed on once', () => {
    const { membership, confirmations, changes } = world();
    membership.start();
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: C })] }, 'test');
    const losing = alive(A, T0 - 5, { by: B });
    membership.merge({ online: [], suspect: [losing] }, 'test');
    expect(membership.get(A)?.by).toBe(C);
    expect(membership.suspicion(A)?.confirmers).toEqual(new Set([C, B]));
    expect(confirmations).toStrictEqual([{ baseUrl: A, monitor: false, lastUpdate: T0 - 5, online: true, suspect: true, by: B }]);
    membership.merge({ online: [], suspect: [losing] }, 'test'); // again: known
    expect(confirmations).toHaveLength(1);
    // an older suspicion by someone else confirms nothing
    membership.merge({ online: [], suspect: [alive(A, T0 - 6, { by: 'http://a0:1/' })] }, 'test');
    // an alive or offline entry that loses is no confirmation either
    membership.merge({ online: [alive(A, T0 - 6)], offline: [alive(A, T0 - 6, { by: 'http://a1:1/' })] }, 'test');
    expect(membership.suspicion(A)?.confirmers).toEqual(new Set([C, B]));
    expect(confirmations).toHaveLength(1);
    expect(changes.map((c) => c.type)).toEqual(['joined']);
  });

  it('a suspicion without a declarer is counted as "unknown"; the same again confirms nothing', () => {
    const { membership, confirmations } = world();
    membership.start();
    membership.merge({ online: [], suspect: [alive(A, T0 - 5)] }, 'test');
    membership.merge({ online: [], suspect: [alive(A, T0 - 5)] }, 'test');
    expect(confirmations).toEqual([]);
    expect(membership.suspicion(A)?.confirmers).toEqual(new Set(['unknown']));
  });

  it('no confirmation when the view\'s entry is not a running suspicion', () => {
    const { membership, confirmations } = world();
    membership.start();
    // offline in the view: a suspicion at its stamp loses on state
    membership.merge({ online: [], offline: [alive(A, T0 - 5, { by: C })] }, 'test');
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: B })] }, 'test');
    // suspect in the view but no suspicion record (installed by preload)
    membership.preload([{ baseUrl: C, monitor: false, lastUpdate: T0 - 5, online: true, suspect: true, by: C }]);
    membership.merge({ online: [], suspect: [alive(C, T0 - 5, { by: B })] }, 'test');
    expect(confirmations).toEqual([]);
    expect(membership.suspicion(C)).toBeUndefined();
  });

  it('a suspicion record kept with an offline entry (preload) is not confirmed either', () => {
    const { membership, confirmations } = world();
    membership.start();
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: C })] }, 'test');
    membership.preload([{ baseUrl: A, monitor: false, lastUpdate: T0 - 5, online: false, by: C }]);
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: 'http://d:1/' })] }, 'test');
    expect(confirmations).toEqual([]);
    expect(membership.suspicion(A)?.confirmers).toEqual(new Set([C]));
  });

  it('flap damping counts state changes of one process only: a new process starts clean and is announced', () => {
    const { membership, newProcesses, applied } = world({ flapThreshold: 0, flapHalfLifeMs: 1e12 });
    membership.start();
    membership.merge({ online: [alive(A, T0 - 20, { generation: 1 })] }, 'test'); // joined: not a flap
    expect(membership.flapFactor(A, T0)).toBe(1);
    membership.merge({ online: [alive(A, T0 - 19, { generation: 1 })] }, 'test'); // same state: not a flap
    expect(membership.flapFactor(A, T0)).toBe(1);
    membership.merge({ online: [], suspect: [alive(A, T0 - 18, { generation: 1, by: B })] }, 'test');
    membership.merge({ online: [], offline: [alive(A, T0 - 17, { generation: 1 })] }, 'test');
    expect(membership.flapFactor(A, T0)).toBe(3);
    expect(newProcesses).toEqual([]);
    // a restart (another generation) going online: no flap, and the old penalty is forgotten
    membership.merge({ online: [alive(A, T0 - 16, { generation: 2 })] }, 'test');
    expect(newProcesses).toEqual([A]);
    expect(membership.flapFactor(A, T0)).toBe(1);
    // no generation on either side is the same process (0); absent then present is a new one
    membership.merge({ online: [alive(B, T0 - 20)] }, 'test');
    membership.merge({ online: [], offline: [alive(B, T0 - 19)] }, 'test');
    expect(newProcesses).toEqual([A]);
    membership.merge({ online: [alive(B, T0 - 18, { generation: 5 })] }, 'test');
    expect(newProcesses).toEqual([A, B]);
    expect(applied.map((e) => e.baseUrl)).toEqual([SELF, A, A, A, A, A, B, B, B]);
    expect(applied.at(-1)).toStrictEqual({ baseUrl: B, monitor: false, lastUpdate: T0 - 18, online: true, generation: 5 });
  });
});

describe('Membership: removals', () => {
  it('sweeps at most every min(1 minute, retention / 10), only entries strictly past retention, never itself', () => {
    const { membership, clock, events, changes } = world({ retentionMs: 100_000, renewEveryMs: 1e12 });
    membership.start();
    membership.merge({ online: [alive(A, T0 - 95_000), alive(B, T0 - 90_000)], suspect: [alive(C, T0 - 95_000, { by: B })] }, 'test');
    expect(membership.sweep(T0)).toEqual([]);
    clock.now = T0 + 9_999;
    expect(membership.sweep(clock.now)).toEqual([]); // within 10 s of the last walk
    expect(membership.size).toBe(4);
    clock.now = T0 + 10_000;
    events.length = 0;
    const swept = membership.sweep(clock.now);
    // B is exactly at the bound (now - retention): kept
    expect(swept.map((c) => c.server.baseUrl)).toEqual([A, C]);
    expect(swept[1]).toStrictEqual({ type: 'removed', server: { baseUrl: C, monitor: false, lastUpdate: T0 - 95_000, online: true, suspect: true, by: B }, previous: 'suspect', reason: 'no update for 0 h' });
    expect(events).toEqual([`removed ${A}`, `removed ${C}`, `change removed ${A}`, `change removed ${C}`]);
    expect(changes.slice(-2)).toStrictEqual(swept);
    expect(membership.suspicion(C)).toBeUndefined();
    expect([...membership.keys()].sort()).toEqual([B, SELF]);
    clock.now = T0 + 500_000;
    expect(membership.sweep(clock.now).map((c) => c.server.baseUrl)).toEqual([B]);
    expect(membership.get(SELF)).toBeDefined(); // our own entry, far past retention, stays
  });

  it('a swept server comes back with no suspicion or flap history', () => {
    const { membership, clock } = world({ retentionMs: 3_600_000, flapThreshold: 0, flapHalfLifeMs: 1e12 });
    membership.start();
    membership.merge({ online: [alive(A, T0 - 3_000_000)] }, 'test');
    membership.merge({ online: [], suspect: [alive(A, T0 - 2_999_999, { by: B })] }, 'test');
    expect(membership.flapFactor(A, T0)).toBe(2);
    clock.now = T0 + 700_000;
    expect(membership.sweep(clock.now)[0]).toMatchObject({ server: { baseUrl: A }, reason: 'no update for 1 h' });
    expect(membership.flapFactor(A, clock.now)).toBe(1);
    membership.merge({ online: [], suspect: [alive(A, T0, { by: C })] }, 'test');
    expect(membership.suspicion(A)).toStrictEqual({ startedAt: T0 + 700_000, confirmers: new Set([C]) });
  });

  it('remove: tells removal listeners and drops the suspicion; announces only what the view held', () => {
    const { membership, events, changes } = world();
    membership.start();
    membership.merge({ online: [], suspect: [alive(A, T0 - 5, { by: B })] }, 'test');
    events.length = 0;
    membership.remove(A, 'belongs to another cluster');
    expect(events).toEqual([`removed ${A}`, `change removed ${A}`]);
    expect(changes.at(-1)).toStrictEqual({ type: 'removed', server: { baseUrl: A, monitor: false, lastUpdate: T0 - 5, online: true, suspect: true, by: B }, previous: 'suspect', reason: 'belongs to another cluster' });
    expect(membership.get(A)).toBeUndefined();
    expect(membership.suspicion(A)).toBeUndefined();
    membership.remove(A, 'again');
    expect(events).toEqual([`removed ${A}`, `change removed ${A}`, `removed ${A}`]);
  });
});

describe('Membership: a full view', () => {
  /**
   * The preloaded entries, built once for the describe and frozen: a view keeps a frozen entry
   * as it is and hashes it once for every view (MembershipView.set, ViewDigest.toggleMember;
   * what a simulator relies on), so each test preloads the same ten thousand objects in a
   * fraction of the time hashing fresh copies takes. Stored entries are never mutated (a merge
   * replaces them; freezing would make a write throw), so every test starts from the same view.
   */
  const online: MemberEntry[] = [];
  const offline: MemberEntry[] = [];
  beforeAll(() => {
    for (let i = 0; i < MAX_SERVERS - 1; i++) online.push(Object.freeze({ baseUrl: `http://on-${i}:1/`, monitor: false, lastUpdate: T0 - 1000, online: true }));
    for (let i = 0; i < 150; i++) offline.push(Object.freeze({ baseUrl: `http://off-${i}:1/`, monitor: false, lastUpdate: T0 - 10_000 + i, online: false }));
  });
  /** MAX_SERVERS - 1 entries: `offlineCount` (≤ 150) offline ones off-i stamped T0 - 10_000 + i, the rest online (on-i, T0 - 1000). */
  const entries = (offlineCount: number) => [...online.slice(0, MAX_SERVERS - 1 - offlineCount), ...offline.slice(0, offlineCount)];

  /** Self plus preloaded entries up to MAX_SERVERS (see `entries`). */
  function full(offlineCount: number, settings: Partial<typeof DEFAULT_ENGINE_SETTINGS> = {}) {
    const w = world(settings);
    w.membership.start();
    w.membership.preload(entries(offlineCount));
    expect(w.membership.size).toBe(MAX_SERVERS);
    return w;
  }

  it('one place short of full, a newcomer enters without eviction', () => {
    const w = world();
    w.membership.start();
    // 150 offline entries that a wrong "full" would evict
    w.membership.preload(entries(150).slice(1));
    expect(w.membership.size).toBe(MAX_SERVERS - 1);
    w.membership.merge({ online: [alive(A, T0)] }, 'test');
    expect(w.membership.size).toBe(MAX_SERVERS);
    expect(w.removed).toEqual([]);
  });

  it('nothing offline: a newcomer is refused with a line that says why; an offline one is told "and older than it"', () => {
    const { membership, lines, changes } = full(0);
    // a server already held is updated, full or not
    membership.merge({ online: [], offline: [alive('http://on-0:1/', T0)] }, 'test');
    expect(membership.get('http://on-0:1/')?.online).toBe(false);
    expect(changes.map((c) => c.type)).toEqual(['offline']);
    changes.length = 0;
    // back to nothing offline (preload installs without news)
    membership.preload([{ baseUrl: 'http://on-0:1/', monitor: false, lastUpdate: T0 - 1000, online: true }]);
    changes.length = 0;
    membership.merge({ online: [alive(A, T0)], offline: [alive(B, T0)] }, 'test');
    expect(membership.get(A)).toBeUndefined();
    expect(membership.get(B)).toBeUndefined();
    expect(membership.stats.entriesRefused).toBe(2);
    expect(changes).toEqual([]);
    expect(lines).toEqual([
      `warn: refused ${A}: the view holds ${MAX_SERVERS} servers, the most a view, a message and a master list carry, and none of them is offline`,
      `warn: refused ${B}: the view holds ${MAX_SERVERS} servers, the most a view, a message and a master list carry, and none of them is offline and older than it`,
    ]);
  });

  it('our own offline entry is never evicted to make room', () => {
    const { membership } = full(0);
    membership.setOnline(false);
    membership.merge({ online: [alive(A, T0)] }, 'test');
    expect(membership.get(A)).toBeUndefined();
    expect(membership.self().online).toBe(false);
    expect(membership.get(SELF)).toBeDefined();
  });

  it('an offline newcomer does not evict an offline entry of the same stamp', () => {
    const { membership, removed } = full(3);
    membership.merge({ online: [], offline: [alive(A, T0 - 10_000)] }, 'test');
    expect(membership.get(A)).toBeUndefined();
    expect(removed).toEqual([]);
    membership.merge({ online: [], offline: [alive(A, T0 - 9_999)] }, 'test');
    expect(membership.get(A)).toBeDefined();
    expect(removed).toEqual(['http://off-0:1/']);
  });

  it('evictions drop the oldest offline entries first, a hundredth of the view, announced with their reason, history forgotten', () => {
    const { membership, removed, changes, events } = full(150, { flapThreshold: 0, flapHalfLifeMs: 1e12 });
    // off-0 gets a flap history (two transitions, restamped to T0 - 9,989: still among the oldest)
    membership.merge({ online: [alive('http://off-0:1/', T0 - 9_990)] }, 'test');
    membership.merge({ online: [], offline: [alive('http://off-0:1/', T0 - 9_989)] }, 'test');
    expect(membership.flapFactor('http://off-0:1/', T0)).toBe(3);
    // off-2 keeps a suspicion record though its entry is offline again (installed by preload)
    membership.merge({ online: [], suspect: [alive('http://off-2:1/', T0 - 9_980, { by: B })] }, 'test');
    membership.preload([{ baseUrl: 'http://off-2:1/', monitor: false, lastUpdate: T0 - 9_998, online: false }]);
    expect(membership.suspicion('http://off-2:1/')).toBeDefined();
    events.length = 0;
    changes.length = 0;
    membership.merge({ online: [alive(A, T0)] }, 'test');
    expect(membership.get(A)).toBeDefined();
    expect(removed).toHaveLength(100);
    expect(new Set(removed)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `http://off-${i}:1/`)));
    expect(removed.slice(0, 2)).toEqual(['http://off-1:1/', 'http://off-2:1/']);
    expect(changes).toHaveLength(101);
    expect(changes[0]).toStrictEqual({ type: 'removed', server: { baseUrl: 'http://off-1:1/', monitor: false, lastUpdate: T0 - 9_999, online: false }, previous: 'offline', reason: `the view is full (${MAX_SERVERS} servers): the oldest offline entries make room` });
    expect(changes[100]).toMatchObject({ type: 'joined', server: { baseUrl: A } });
    expect(events[0]).toBe('removed http://off-1:1/');
    expect(events[100]).toBe('change removed http://off-1:1/');
    expect(membership.size).toBe(MAX_SERVERS - 99);
    expect(membership.flapFactor('http://off-0:1/', T0)).toBe(1);
    expect(membership.suspicion('http://off-2:1/')).toBeUndefined();
  });
});
