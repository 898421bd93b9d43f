import { Awareness } from '../../lib/core/awareness.js';
import { Dissemination, pushEntry, type Piggyback } from '../../lib/core/dissemination.js';
import { RateLimitedLog } from '../../lib/core/engine-log.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../lib/core/engine-settings.js';
import { toWire, type MemberEntry } from '../../lib/core/membership-view.js';
import { Membership } from '../../lib/core/membership.js';
import { entrySize } from '../../lib/core/message-budget.js';
import { PeerBook } from '../../lib/core/peer-book.js';
import { jsonSize, type StateDelta } from '../../lib/core/state-wire.js';
import type { GossipServer, ProbeMessage } from '../../lib/core/types.js';

/**
 * Dissemination's piggyback, built from a real Membership and PeerBook: which entries and
 * deltas a probe or ack carries, in which list, within which byte budget, and what an ack
 * leaves out or corrects of the probe it answers.
 */

const SELF = 'http://self:1/';
const T0 = 1_800_000_000_000;
const A = 'http://a:1/';
const B = 'http://b:1/';
const C = 'http://c:1/';
const D = 'http://d:1/';
const E = 'http://e:1/';
const P = 'http://prober:1/';

type Settings = { retransmitMult: number; maxPiggyback: number; messageBudgetBytes: number };

function setup(settings: Partial<Settings> = {}, deps: { timeLeft?: (delta: StateDelta) => StateDelta } = {}) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const peers = new PeerBook(SELF, { now });
  const membership = new Membership({ ...DEFAULT_ENGINE_SETTINGS, selfUrl: SELF }, { now, peers, awareness: new Awareness(8, 2000), log: new RateLimitedLog(undefined, now) });
  const dissemination = new Dissemination({ ...DEFAULT_ENGINE_SETTINGS, ...settings }, membership, peers, deps);
  membership.start();
  drain(dissemination);
  return { clock, peers, membership, dissemination };
}

/** Sends until nothing waits, so a test starts from an empty queue. */
function drain(d: Dissemination): void {
  for (let i = 0; d.hasPending && i < 1000; i++) d.piggyback();
  expect(d.hasPending).toBe(false);
}

const alive = (baseUrl: string, lastUpdate: number): MemberEntry => ({ baseUrl, monitor: false, lastUpdate, online: true });
const suspect = (baseUrl: string, lastUpdate: number, by: string): MemberEntry => ({ baseUrl, monitor: false, lastUpdate, online: true, suspect: true, by });
const offline = (baseUrl: string, lastUpdate: number, by?: string): MemberEntry => ({ baseUrl, monitor: false, lastUpdate, online: false, ...(by ? { by } : {}) });
const wire = (baseUrl: string, lastUpdate: number, by?: string): GossipServer => ({ baseUrl, monitor: false, lastUpdate, ...(by ? { by } : {}) });

/** The URLs of each list, sorted (the order within a list is BroadcastQueue's, tested there). */
function urls(list: Piggyback): { online: string[]; suspect: string[]; offline: string[] } {
  const of = (l?: GossipServer[]) => (l ?? []).map((e) => e.baseUrl).sort();
  return { online: of(list.online), suspect: of(list.suspect), offline: of(list.offline) };
}

const probe = (lists: Partial<ProbeMessage>): ProbeMessage => ({ message: 'probe', online: [], ...lists });

describe('Dissemination: what a probe or ack carries', () => {
  it('carries our own entry, then each queued change in the list of its state (online, suspect, offline)', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 9)], suspect: [wire(B, T0 - 8, C)], offline: [wire(D, T0 - 7, C), wire(E, T0 - 6)] }, 'test');
    const list = dissemination.piggyback();
    expect(list.online[0]).toEqual(toWire(membership.self()));
    expect(urls(list)).toEqual({ online: [A, SELF].sort(), suspect: [B], offline: [D, E] });
    expect(list.suspect).toEqual([wire(B, T0 - 8, C)]);
    expect(list.offline).toEqual(expect.arrayContaining([wire(D, T0 - 7, C), wire(E, T0 - 6)]));
    expect('state' in list).toBe(false);
  });

  it('carries our own entry once after a restamp; its queued copy counts as sent (retransmitMult times)', () => {
    const clock = { now: T0 };
    const now = () => clock.now;
    const peers = new PeerBook(SELF, { now });
    const membership = new Membership({ ...DEFAULT_ENGINE_SETTINGS, selfUrl: SELF }, { now, peers, awareness: new Awareness(8, 2000), log: new RateLimitedLog(undefined, now) });
    const dissemination = new Dissemination({ ...DEFAULT_ENGINE_SETTINGS, retransmitMult: 3 }, membership, peers);
    membership.start();
    expect(dissemination.depth).toBe(1);
    for (let i = 0; i < 3; i++) expect(dissemination.piggyback().online).toEqual([toWire(membership.self())]);
    expect(dissemination.hasPending).toBe(false);
  });

  it('does not count the queued copy of our own entry against maxPiggyback: after a restamp, two changes still fit in two slots', () => {
    const { clock, dissemination, membership } = setup({ maxPiggyback: 2 });
    membership.merge({ online: [wire(A, T0 - 9), wire(B, T0 - 8), wire(C, T0 - 7)] }, 'test');
    clock.now += DEFAULT_ENGINE_SETTINGS.renewEveryMs;
    membership.renewIfDue(clock.now);
    // four queued (ceil(4 / 2) = 2 = maxPiggyback); our restamp is the newest, so it is taken first
    expect(dissemination.depth).toBe(4);
    const list = dissemination.piggyback();
    expect(list.online[0]).toEqual(toWire(membership.self()));
    expect(list.online.filter((e) => e.baseUrl === SELF)).toHaveLength(1);
    expect(list.online.filter((e) => e.baseUrl !== SELF).map((e) => e.baseUrl)).toEqual([C, B]);
  });

  it('pushEntry creates the suspect and offline lists when a list lacks them', () => {
    const list: Piggyback = { online: [] };
    pushEntry(list, offline(D, T0), toWire(offline(D, T0)));
    pushEntry(list, suspect(B, T0, C), toWire(suspect(B, T0, C)));
    pushEntry(list, alive(A, T0), toWire(alive(A, T0)));
    expect(list).toStrictEqual({ online: [wire(A, T0)], offline: [wire(D, T0)], suspect: [wire(B, T0, C)] });
  });

  it('sends each change retransmitMult · ceil(log10(N + 1)) times (N = 10 servers: twice the multiplier)', () => {
    const { dissemination, membership } = setup({ retransmitMult: 3 });
    membership.preload(Array.from({ length: 9 }, (_, i) => alive(`http://m${i}:1/`, T0 - 100)));
    expect(membership.size).toBe(10);
    membership.merge({ online: [wire(A, T0 - 5)] }, 'test');
    expect(membership.size).toBe(11);
    // 11 servers now: ceil(log10(12)) = 2, so 3 · 2 = 6 transmissions
    let carried = 0;
    for (let i = 0; i < 20; i++) if (dissemination.piggyback().online.some((e) => e.baseUrl === A)) carried++;
    expect(carried).toBe(6);
    expect(dissemination.depth).toBe(0);
  });

  it('sends each change retransmitMult times in a cluster of 2 to 9 servers (ceil(log10(N + 1)) = 1)', () => {
    const { dissemination, membership } = setup({ retransmitMult: 3 });
    membership.preload(Array.from({ length: 7 }, (_, i) => alive(`http://m${i}:1/`, T0 - 100)));
    membership.merge({ online: [wire(A, T0 - 5)] }, 'test');
    expect(membership.size).toBe(9);
    let carried = 0;
    for (let i = 0; i < 20; i++) if (dissemination.piggyback().online.some((e) => e.baseUrl === A)) carried++;
    expect(carried).toBe(3);
  });

  it('stays within the byte budget, counting the envelope with the target URL', () => {
    const target = `http://${'t'.repeat(60)}:1/`;
    const each = entrySize(alive('http://m0:1/', T0 - 5));
    // what a probe to `target` spends before any change: the envelope (96 + the target URL) and our own entry
    const { dissemination, membership } = setup();
    const fixed = 96 + target.length + entrySize(membership.self());
    const budgeted = setup({ messageBudgetBytes: fixed + 3 * each });
    budgeted.membership.merge({ online: Array.from({ length: 6 }, (_, i) => wire(`http://m${i}:1/`, T0 - 5)) }, 'test');
    const list = budgeted.dissemination.piggyback(target);
    // our own entry and exactly three changes fit; the other three wait
    expect(list.online).toHaveLength(4);
    expect(JSON.stringify({ message: 'probe', target, ...list }).length).toBeLessThanOrEqual(fixed + 3 * each);
    expect(budgeted.dissemination.depth).toBe(6);
    expect(dissemination.depth).toBe(0);
  });

  it('gives a suspect target its own suspicion, within the budget, so it can refute', () => {
    const { dissemination, membership } = setup();
    membership.preload([suspect(A, T0 - 5, SELF), alive(B, T0 - 5)]);
    const toA = dissemination.piggyback(A);
    expect(toA.suspect).toEqual([wire(A, T0 - 5, SELF)]);
    expect(urls(toA)).toEqual({ online: [SELF], suspect: [A], offline: [] });
    // an alive target gets nothing of its own
    expect(urls(dissemination.piggyback(B))).toEqual({ online: [SELF], suspect: [], offline: [] });
  });

  it("carries a suspect target's entry once: its queued copy counts as sent, and is not added a second time", () => {
    const { dissemination, membership } = setup({ retransmitMult: 1 });
    membership.preload([alive(A, T0 - 5)]);
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, C)] }, 'test');
    expect(dissemination.depth).toBe(1);
    expect(dissemination.piggyback(A)).toStrictEqual({ online: [toWire(membership.self())], offline: [], suspect: [wire(A, T0 - 5, C)] });
    // sent its one time (retransmitMult 1, 2 servers)
    expect(dissemination.hasPending).toBe(false);
  });

  it("gives a suspect target another declarer's confirmation too; its own queued copy takes no maxPiggyback slot", () => {
    const { dissemination, membership } = setup({ retransmitMult: 1, maxPiggyback: 1 });
    membership.preload([alive(A, T0 - 5)]);
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, C)] }, 'test');
    // B loses to C on the declarer's name: a confirmation, queued apart
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, B)] }, 'test');
    expect(dissemination.depth).toBe(2);
    expect(dissemination.piggyback(A).suspect).toEqual([wire(A, T0 - 5, C), wire(A, T0 - 5, B)]);
    // both went in the one slot's message: nothing waits
    expect(dissemination.hasPending).toBe(false);
  });

  it('announces an independent confirmation of a suspicion apart from the entry it confirms, one per declarer', () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5)]);
    // declarers in falling URL order: each later one loses to the view's entry on the declarer's name, so it is a confirmation
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, 'http://z3:1/')] }, 'test');
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, 'http://z2:1/')] }, 'test');
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, 'http://z1:1/')] }, 'test');
    expect(membership.get(A)?.by).toBe('http://z3:1/');
    expect(dissemination.depth).toBe(3);
    const list = dissemination.piggyback();
    expect((list.suspect ?? []).map((e) => e.by).sort()).toEqual(['http://z1:1/', 'http://z2:1/', 'http://z3:1/']);
  });
});

describe('Dissemination: an ack and the probe it answers', () => {
  it('does not send back an entry the probe carried with the same stamp and state (online, suspect and offline)', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 9)], suspect: [wire(B, T0 - 8, C)], offline: [wire(D, T0 - 7, C)] }, 'test');
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 9)], suspect: [wire(B, T0 - 8, C)], offline: [wire(D, T0 - 7, C)] }));
    expect(urls(ack)).toEqual({ online: [SELF], suspect: [], offline: [] });
    // the copies were not spent on the prober: the next message carries all three
    expect(urls(dissemination.piggyback())).toEqual({ online: [A, SELF].sort(), suspect: [B], offline: [D] });
  });

  it('sends a queued entry the probe carried under another state with the same stamp, once', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [], offline: [wire(D, T0 - 7, C)] }, 'test');
    const ack = dissemination.piggyback(undefined, probe({ suspect: [wire(D, T0 - 7, C)] }));
    expect(ack.offline).toEqual([wire(D, T0 - 7, C)]);
  });

  it('corrects a stale entry the probe carried: a later stamp wins whatever the state', () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5), offline(B, T0 - 5, SELF)]);
    // A: ours alive and newer than their suspect; B: ours offline but older than their alive
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(B, T0 - 4)], suspect: [wire(A, T0 - 10, C)] }));
    expect(urls(ack)).toEqual({ online: [A, SELF].sort(), suspect: [], offline: [] });
  });

  it('corrects an entry the probe carried with our stamp but a milder state (offline over alive), not an equal one', () => {
    const { dissemination, membership } = setup();
    membership.preload([offline(P, T0 - 5, SELF), suspect(A, T0 - 5, SELF), alive(B, T0 - 5)]);
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(P, T0 - 5), wire(B, T0 - 5)], suspect: [wire(A, T0 - 5, SELF)] }));
    expect(ack.offline).toEqual([wire(P, T0 - 5, SELF)]);
    expect(urls(ack)).toEqual({ online: [SELF], suspect: [], offline: [P] });
  });

  it('of a server the probe carried twice, corrects against the winning copy, not the last one', () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5), alive(B, T0 - 5), alive(D, T0 - 5)]);
    // A: carried alive at our stamp (a match) and, later in the message, offline at an older stamp
    // B: carried suspect at an older stamp, then offline at a less old one: ours wins over both
    // D: carried alive at an older stamp, then offline at ours (which wins over our alive)
    const ack = dissemination.piggyback(
      undefined,
      probe({ online: [wire(A, T0 - 5), wire(D, T0 - 9)], suspect: [wire(B, T0 - 9, C)], offline: [wire(A, T0 - 8, C), wire(B, T0 - 7, C), wire(D, T0 - 5, C)] }),
    );
    expect(urls(ack)).toEqual({ online: [B, SELF].sort(), suspect: [], offline: [] });
  });

  it('sends a queued confirmation to a prober whose probe carried the suspicion by another declarer (Lifeguard)', () => {
    const { dissemination, membership } = setup();
    const [z1, z3] = ['http://z1:1/', 'http://z3:1/'];
    membership.preload([alive(A, T0 - 5)]);
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, z3)] }, 'test');
    // z1 loses to z3 on the declarer's name: a confirmation, queued apart from the view's entry
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, z1)] }, 'test');
    expect(dissemination.depth).toBe(2);
    // same stamp and state as the confirmation, another declarer: the prober lacks z1's word
    const ack = dissemination.piggyback(undefined, probe({ suspect: [wire(A, T0 - 5, z3)] }));
    expect(ack.suspect).toEqual([wire(A, T0 - 5, z1)]);
  });

  const tieBreaks: [string, MemberEntry, MemberEntry][] = [
    ['monitor over non-monitor', { ...alive(A, T0 - 5), monitor: true }, alive(A, T0 - 5)],
    ["the server's own word over a declaration", offline(A, T0 - 5), offline(A, T0 - 5, C)],
    ["the declarer's URL", suspect(A, T0 - 5, 'http://z3:1/'), suspect(A, T0 - 5, 'http://z1:1/')],
    ['the generation', { ...alive(A, T0 - 5), generation: 7 }, { ...alive(A, T0 - 5), generation: 3 }],
  ];

  it.each(tieBreaks)('corrects an entry of the probe that ours beats only on a tie-break (%s), not one that beats ours', (_name, winner, loser) => {
    const wins = setup();
    wins.membership.preload([winner]);
    const expected: Piggyback = { online: [toWire(wins.membership.self())], offline: [] };
    pushEntry(expected, winner, toWire(winner));
    const theirs: Piggyback = { online: [] };
    pushEntry(theirs, loser, toWire(loser));
    expect(wins.dissemination.piggyback(undefined, probe(theirs))).toStrictEqual(expected);
    // the other way round: the probe's entry wins, ours is not sent
    const loses = setup();
    loses.membership.preload([loser]);
    const ours: Piggyback = { online: [] };
    pushEntry(ours, winner, toWire(winner));
    expect(loses.dissemination.piggyback(undefined, probe(ours))).toStrictEqual({ online: [toWire(loses.membership.self())], offline: [] });
  });

  it('does not send back a queued entry matching any copy of a server the probe carried twice', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 5)] }, 'test');
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 5)], offline: [wire(A, T0 - 9, C)] }));
    expect(urls(ack)).toEqual({ online: [SELF], suspect: [], offline: [] });
  });

  it('sends our own entry once even when the probe carried a stale copy of it', () => {
    const { dissemination, membership } = setup();
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(SELF, T0 - 100)] }));
    expect(ack.online).toEqual([toWire(membership.self())]);
  });

  it('ignores malformed entries and deltas in the probe (no throw, no correction of a stamp that is not a number)', () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5)]);
    membership.merge({ online: [wire(E, T0 - 3)] }, 'test');
    dissemination.queueState({ server: B, from: 0, to: 1, entries: [{ key: 'k', version: 1, value: 1 }] });
    const garbage = {
      message: 'probe',
      // E's URL in an array is not E: its queued copy is still sent
      online: [null, 7, { baseUrl: 5, lastUpdate: 1 }, { baseUrl: A, lastUpdate: '1' }, { baseUrl: [E], monitor: false, lastUpdate: T0 - 3 }],
      suspect: 'not a list',
      offline: [{ lastUpdate: 3 }],
      state: [null, 3],
    } as unknown as ProbeMessage;
    const ack = dissemination.piggyback(undefined, garbage);
    expect(urls(ack)).toEqual({ online: [E, SELF].sort(), suspect: [], offline: [] });
    expect(ack.state?.map((d) => d.server)).toEqual([B]);
  });
});

describe('Dissemination: key/value deltas', () => {
  const delta = (server: string, from: number, to: number, extra: Partial<StateDelta> = {}): StateDelta => ({
    server,
    from,
    to,
    entries: [{ key: `k${to}`, version: to, value: to }],
    ...extra,
  });

  it('has something pending when only a delta waits', () => {
    const { dissemination } = setup();
    dissemination.queueState(delta(A, 0, 1));
    expect(dissemination.depth).toBe(0);
    expect(dissemination.hasPending).toBe(true);
  });

  it('carries each delta, with the time its keys have left as timeLeft computes it', () => {
    const { dissemination } = setup({}, { timeLeft: (d) => ({ ...d, entries: d.entries.map((e) => ({ ...e, ttlMs: 42 })) }) });
    dissemination.queueState(delta(A, 0, 1));
    expect(dissemination.piggyback().state).toEqual([{ server: A, from: 0, to: 1, entries: [{ key: 'k1', version: 1, value: 1, ttlMs: 42 }] }]);
  });

  it('gives a page-format peer no state, and keeps the delta for the next peer', () => {
    const { dissemination, peers } = setup();
    peers.markPageFormat(B);
    dissemination.queueState(delta(A, 0, 1));
    const toPage = dissemination.piggyback(B);
    expect('state' in toPage).toBe(false);
    expect(dissemination.piggyback(C).state).toEqual([delta(A, 0, 1)]);
  });

  it('merges a delta that joins up with the queued one of the same server: the union of ranges, each key at its highest version, by version', () => {
    const { dissemination } = setup();
    dissemination.queueState({ server: A, from: 0, to: 5, generation: 7, entries: [{ key: 'a', version: 5, value: 'a5' }, { key: 'c', version: 4, value: 'c4' }] });
    // starts where the queued one ends (from = its to), same generation
    dissemination.queueState({
      server: A,
      from: 5,
      to: 9,
      generation: 7,
      entries: [
        { key: 'a', version: 3, value: 'a3' },
        { key: 'b', version: 1, value: 'b1' },
        { key: 'd', version: 9, value: 'd9' },
      ],
    });
    expect(dissemination.piggyback().state).toStrictEqual([
      {
        server: A,
        from: 0,
        to: 9,
        entries: [
          { key: 'b', version: 1, value: 'b1' },
          { key: 'c', version: 4, value: 'c4' },
          { key: 'a', version: 5, value: 'a5' },
          { key: 'd', version: 9, value: 'd9' },
        ],
        generation: 7,
      },
    ]);
  });

  it('merges a delta that starts where the queued one starts; without a generation the merge has none', () => {
    const { dissemination } = setup();
    const queuedEntry = { key: 'a', version: 2, value: 'first' };
    dissemination.queueState({ server: A, from: 1, to: 3, entries: [queuedEntry] });
    dissemination.queueState({ server: A, from: 1, to: 2, entries: [{ key: 'a', version: 2, value: 'again' }] });
    const [merged] = dissemination.piggyback().state ?? [];
    expect(merged).toStrictEqual({ server: A, from: 1, to: 3, entries: [queuedEntry] });
    // an equal version leaves the queued copy in place
    expect(merged.entries[0]).toBe(queuedEntry);
  });

  it.each([
    ['a gap after the queued range', { from: 4, to: 6 }],
    ['a start before the queued range', { from: 0, to: 6 }],
    ['another generation', { from: 3, to: 6, generation: 8 }],
    ['a reset (floor)', { from: 3, to: 6, floor: 3 }],
  ])('replaces the queued delta instead of merging on %s', (_name, change) => {
    const { dissemination } = setup();
    dissemination.queueState({ server: A, from: 1, to: 3, generation: 7, entries: [{ key: 'a', version: 3, value: 'a3' }] });
    const newer: StateDelta = { server: A, generation: 7, entries: [{ key: 'b', version: 6, value: 'b6' }], ...change };
    dissemination.queueState(newer);
    expect(dissemination.piggyback().state).toStrictEqual([newer]);
  });

  it('replaces a queued reset (floor) with a later delta instead of merging into it', () => {
    const { dissemination } = setup();
    dissemination.queueState({ server: A, from: 1, to: 3, floor: 1, entries: [{ key: 'a', version: 3, value: 'a3' }] });
    const newer: StateDelta = { server: A, from: 3, to: 6, entries: [{ key: 'b', version: 6, value: 'b6' }] };
    dissemination.queueState(newer);
    expect(dissemination.piggyback().state).toStrictEqual([newer]);
  });

  it('does not send back a delta the probe carried a covering range of; sends one it covered only in part, and always a reset', () => {
    const { dissemination } = setup();
    dissemination.queueState(delta(A, 2, 5)); // carried: same range
    dissemination.queueState(delta(B, 2, 5)); // carried from 3: not all of it
    dissemination.queueState(delta(C, 2, 5)); // carried up to 4: not all of it
    dissemination.queueState(delta(D, 2, 5, { floor: 2 })); // a reset: always sent
    dissemination.queueState(delta(E, 2, 5)); // carried as a reset: not counted as carried
    const ack = dissemination.piggyback(
      undefined,
      probe({ state: [delta(A, 2, 5), delta(B, 3, 5), delta(C, 2, 4), delta(D, 1, 9), delta(E, 2, 5, { floor: 2 })] }),
    );
    expect(ack.state?.map((d) => d.server).sort()).toEqual([B, C, D, E]);
    // A was not spent on the prober: the next message carries it
    expect(dissemination.piggyback().state?.map((d) => d.server)).toContain(A);
  });

  it('leaves the state list out when every delta was carried by the probe', () => {
    const { dissemination, membership } = setup();
    dissemination.queueState(delta(A, 2, 5));
    const ack = dissemination.piggyback(undefined, probe({ state: [delta(A, 1, 5)] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self())], offline: [] });
  });

  it('counts a delta as its JSON size plus a separator against the budget', () => {
    const d = delta(A, 0, 1);
    const probeSetup = setup();
    const fixed = 96 + entrySize(probeSetup.membership.self());
    const fits = setup({ messageBudgetBytes: fixed + jsonSize(d) + 1 });
    fits.dissemination.queueState(d);
    expect(fits.dissemination.piggyback().state).toEqual([d]);
    const short = setup({ messageBudgetBytes: fixed + jsonSize(d) });
    short.dissemination.queueState(d);
    expect(short.dissemination.piggyback().state).toBeUndefined();
    expect(short.dissemination.hasPending).toBe(true);
  });
});
