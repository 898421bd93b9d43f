/**
 * Key ownership, the quorum guard and the singleton coordinator (docs/coordination.md), one
 * rule at a time: a real ClusterEngine whose view each test shapes with the words peers would
 * gossip (joined, suspected, declared offline, left), on a manual clock. No network: nothing
 * here sends a message.
 */
import { DECLARER, SELF, T0, world } from '../support/engine-world.js';
import { KeyOwnership, type OwnershipChange } from '../../lib/core/key-ownership.js';
import { assertQuorumOption, checkQuorum, countQuorum } from '../../lib/core/quorum.js';
import { SingletonCoordinator, singletonKey, type SingletonTransition } from '../../lib/core/singleton-coordinator.js';

const P = 'http://p:1/';
const Q = DECLARER;
const HAND_OVER_MS = 2000;

/** A singleton name whose preference list over the current members starts with `first` (then `second`, if given). */
function nameOwnedBy(ownership: KeyOwnership, first: string, second?: string): string {
  for (let i = 0; i < 10_000; i++) {
    const [a, b] = ownership.owners(singletonKey(`job-${i}`), 2);
    if (a === first && (second === undefined || b === second)) return `job-${i}`;
  }
  throw new Error(`no name owned by ${first}`);
}

describe('the quorum guard', () => {
  it('counts alive, suspect and failed servers; a server that left is not counted', () => {
    const view = {
      online: [{ baseUrl: 'a', monitor: false, lastUpdate: 1 }, { baseUrl: 'b', monitor: false, lastUpdate: 1 }],
      suspect: [{ baseUrl: 'c', monitor: false, lastUpdate: 1 }],
      offline: [
        { baseUrl: 'd', monitor: false, lastUpdate: 1, by: 'a' },
        { baseUrl: 'e', monitor: false, lastUpdate: 1 },
      ],
    };
    expect(countQuorum(view)).toEqual({ alive: 2, suspect: 1, failed: 1, known: 4 });
    expect(countQuorum({ online: [] })).toEqual({ alive: 0, suspect: 0, failed: 0, known: 0 });
  });

  it.each([
    // known, alive, needed for a majority
    [1, 1, 1, true],
    [2, 1, 2, false],
    [3, 2, 2, true],
    [4, 2, 3, false],
    [4, 3, 3, true],
    [5, 2, 3, false],
    [5, 3, 3, true],
  ])('majority of %i known with %i alive: %i needed, ok %s', (known, alive, needed, ok) => {
    expect(checkQuorum({ alive, suspect: 0, failed: known - alive, known }, 'majority')).toEqual({ alive, suspect: 0, failed: known - alive, known, needed, ok });
  });

  it('a number is the alive servers needed; none always passes; suspects never count as alive', () => {
    const count = { alive: 2, suspect: 2, failed: 0, known: 4 };
    expect(checkQuorum(count, 3)).toMatchObject({ needed: 3, ok: false });
    expect(checkQuorum(count, 2)).toMatchObject({ needed: 2, ok: true });
    expect(checkQuorum({ ...count, alive: 0 }, 'none')).toMatchObject({ needed: 0, ok: true });
    expect(checkQuorum(count, 'majority')).toMatchObject({ needed: 3, ok: false });
  });

  it('accepts majority, none and whole numbers from 1; names anything else', () => {
    for (const ok of ['majority', 'none', 1, 7]) expect(() => assertQuorumOption(ok, 'x')).not.toThrow();
    for (const bad of [0, -1, 1.5, '2', null, undefined, 'all']) {
      expect(() => assertQuorumOption(bad, 'runSingleton(options)')).toThrow(TypeError);
      expect(() => assertQuorumOption(bad, 'runSingleton(options)')).toThrow(`runSingleton(options): quorum must be 'majority', 'none' or a whole number of servers ≥ 1; got ${JSON.stringify(bad)}`);
    }
  });
});

describe('key ownership follows the eligible members: online and suspect ones', () => {
  it('starts from the view, and reports each member added or removed, sorted, with the new view id', () => {
    const { engine, peer } = world();
    const ownership = new KeyOwnership(engine);
    expect(ownership.members()).toEqual([SELF]);
    expect(ownership.selfUrl).toBe(SELF);
    const seen: OwnershipChange[] = [];
    ownership.onChange((c) => seen.push(c));
    peer.join(Q);
    peer.join(P);
    expect(seen).toEqual([
      { viewId: expect.any(String), added: [Q], removed: [] },
      { viewId: ownership.viewId(), added: [P], removed: [] },
    ]);
    expect(ownership.members()).toEqual([P, Q, SELF]); // code-unit order
    expect(seen[0].viewId).not.toBe(seen[1].viewId);
    // a suspect keeps its keys: no change
    peer.suspect(P);
    expect(ownership.isEligible(P)).toBe(true);
    expect(seen).toHaveLength(2);
    // declared offline, or left: it owns nothing
    peer.fail(P);
    peer.leave(Q);
    expect(seen.slice(2)).toEqual([
      { viewId: expect.any(String), added: [], removed: [P] },
      { viewId: ownership.viewId(), added: [], removed: [Q] },
    ]);
    expect(ownership.members()).toEqual([SELF]);
    expect(ownership.owner('any key')).toBe(SELF);
    expect(ownership.isOwner('any key')).toBe(true);
  });

  it('owner and owners agree with the preference list; no owner while nobody is eligible', () => {
    const { engine, peer } = world();
    const ownership = new KeyOwnership(engine);
    peer.join(P);
    peer.join(Q);
    for (let k = 0; k < 50; k++) {
      const list = ownership.owners(`k${k}`, 3);
      expect(new Set(list)).toEqual(new Set([SELF, P, Q]));
      expect(ownership.owner(`k${k}`)).toBe(list[0]);
      expect(ownership.isOwner(`k${k}`)).toBe(list[0] === SELF);
    }
    engine.setOnline(false);
    peer.leave(P);
    peer.leave(Q);
    expect(ownership.owner('k')).toBeUndefined();
    expect(ownership.owners('k', 2)).toEqual([]);
  });

  it('rebuilds from the whole view on a lifecycle event (a preload), and stops following once closed', () => {
    const { engine, peer } = world();
    const ownership = new KeyOwnership(engine);
    const seen: OwnershipChange[] = [];
    ownership.onChange((c) => seen.push(c));
    engine.preload([{ baseUrl: P, monitor: false, lastUpdate: T0, online: true }]);
    expect(seen).toEqual([{ viewId: ownership.viewId(), added: [P], removed: [] }]);
    ownership.close();
    peer.join(Q);
    expect(ownership.isEligible(Q)).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('a rebuild that changes several members reports them sorted; one that changes nothing is silent', () => {
    const { engine } = world();
    const ownership = new KeyOwnership(engine);
    const seen: OwnershipChange[] = [];
    ownership.onChange((c) => seen.push(c));
    ownership.refresh(); // same view: no change to report
    expect(seen).toEqual([]);
    engine.preload([
      { baseUrl: Q, monitor: false, lastUpdate: T0, online: true },
      { baseUrl: P, monitor: false, lastUpdate: T0, online: true },
    ]);
    expect(seen).toEqual([{ viewId: ownership.viewId(), added: [P, Q], removed: [] }]);
    ownership.refresh();
    expect(seen).toHaveLength(1);
  });

  it('built while nobody is eligible, it names no owner', () => {
    const { engine } = world();
    engine.setOnline(false);
    const ownership = new KeyOwnership(engine);
    expect(ownership.members()).toEqual([]);
    expect(ownership.owner('k')).toBeUndefined();
    expect(ownership.owners('k', 2)).toEqual([]);
  });

  it('a listener that throws is logged, and the others still hear the change', () => {
    const { engine, peer } = world();
    const warnings: string[] = [];
    const ownership = new KeyOwnership(engine, { warn: (m) => warnings.push(m), debug: () => undefined });
    const heard: string[][] = [];
    ownership.onChange(() => {
      throw new Error('listener bug');
    });
    const off = ownership.onChange((c) => heard.push(c.added));
    peer.join(P);
    expect(heard).toEqual([[P]]);
    expect(warnings).toEqual(['ownership listener threw: listener bug']);
    off();
    peer.join(Q);
    expect(heard).toHaveLength(1);
  });
});

describe('the singleton coordinator', () => {
  function coordinator(over: { joined?: () => boolean; suspectsCountTowardQuorum?: boolean } = {}) {
    const w = world();
    const ownership = new KeyOwnership(w.engine);
    let joined = true;
    const c = new SingletonCoordinator(w.engine, ownership, { handOverDelayMs: HAND_OVER_MS, now: () => w.clock.now, joined: over.joined ?? (() => joined), suspectsCountTowardQuorum: over.suspectsCountTowardQuorum });
    const transitions: SingletonTransition[] = [];
    c.onTransition((t) => transitions.push(t));
    // a host re-reads the view at start: the join state is noted now (the view is stable from here)
    c.refresh();
    return { ...w, ownership, c, transitions, setJoined: (v: boolean) => (joined = v) };
  }

  it('refuses an empty name, and one name registered with two quorums', () => {
    const { c } = coordinator();
    expect(() => c.register('')).toThrow(new TypeError('a singleton needs a non-empty name'));
    c.register('report', 2);
    c.register('report', 2);
    expect(c.has('report')).toBe(true);
    expect(c.has('other')).toBe(false);
    expect(() => c.decide('report', T0, 'majority')).toThrow('singleton "report" is registered twice with different quorums (2 and majority); give each job its own name');
  });

  it('a cluster of one whose view has not changed for the hand-over delay runs at once, with the fencing key', () => {
    const { clock, engine, ownership, c, transitions } = coordinator();
    clock.now += HAND_OVER_MS;
    expect(c.decide('report', 1_700_000_000_000)).toEqual({
      run: true,
      fencing: { name: 'report', fireTime: 1_700_000_000_000, runKey: 'report@1700000000000', owner: SELF, generation: engine.generation, viewId: ownership.viewId() },
    });
    expect(transitions).toEqual([{ type: 'acquired', name: 'report', owner: SELF, previous: undefined, viewId: ownership.viewId(), reason: `owner with quorum in a view unchanged for ${HAND_OVER_MS} ms`, runsFrom: clock.now }]);
    expect(c.states()).toEqual([{ name: 'report', quorum: 'majority', owner: SELF, running: true, lastRunAt: 1_700_000_000_000 }]);
  });

  it('a name first seen in a view that has just changed waits until the view has been stable for the hand-over delay', () => {
    const { clock, c, transitions } = coordinator();
    clock.now += 500;
    const first = c.decide('report', clock.now);
    expect(first).toMatchObject({ run: false, reason: 'hand-over', owner: SELF, detail: `hand-over: runs from ${new Date(T0 + HAND_OVER_MS).toISOString()} on` });
    expect(transitions[0]).toMatchObject({ type: 'acquired', runsFrom: T0 + HAND_OVER_MS, reason: `owner with quorum (1 of 1 alive): hand-over delay ${HAND_OVER_MS} ms` });
    expect(c.held()).toEqual(['report']);
    expect(c.owned()).toEqual([]);
    clock.now = T0 + HAND_OVER_MS - 1;
    expect(c.decide('report', clock.now)).toMatchObject({ run: false, reason: 'hand-over' });
    clock.now = T0 + HAND_OVER_MS;
    expect(c.decide('report', clock.now)).toMatchObject({ run: true });
    expect(c.owned()).toEqual(['report']);
  });

  it('skips while this process has not joined, naming why', () => {
    const { clock, c, setJoined } = coordinator();
    setJoined(false);
    clock.now += HAND_OVER_MS;
    expect(c.decide('report', clock.now)).toEqual({ run: false, name: 'report', fireTime: clock.now, reason: 'not-joined', owner: SELF, viewId: expect.any(String), detail: 'this process has not synced with the cluster yet' });
  });

  it('follows the engine: not joined while it knows peers it has not synced with', () => {
    const w = world();
    const ownership = new KeyOwnership(w.engine);
    const c = new SingletonCoordinator(w.engine, ownership, { handOverDelayMs: HAND_OVER_MS, now: () => w.clock.now });
    c.refresh();
    w.clock.now += HAND_OVER_MS;
    expect(c.decide('alone', w.clock.now)).toMatchObject({ run: true }); // alone: nobody to sync with
    w.peer.join(P);
    expect(w.engine.joinState()).toBe('joining');
    expect(c.decide('alone', w.clock.now)).toMatchObject({ run: false, reason: 'not-joined' });
  });

  it("skips a name another server owns, naming the owner", () => {
    const { clock, peer, ownership, c } = coordinator();
    peer.join(P);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, P);
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'not-owner', owner: P, detail: `owned by ${P}` });
  });

  it('skips without quorum, with the figures; suspects do not count toward it unless asked', () => {
    for (const suspectsCount of [false, true]) {
      const { clock, peer, ownership, c } = coordinator({ suspectsCountTowardQuorum: suspectsCount });
      peer.join(P);
      peer.join(Q);
      peer.suspect(P);
      peer.fail(Q);
      clock.now += HAND_OVER_MS;
      const name = nameOwnedBy(ownership, SELF);
      // known 3 (self, suspect P, failed Q): a majority needs 2 alive
      expect(c.quorum()).toEqual({ alive: 1, suspect: 1, failed: 1, known: 3, needed: 2, ok: suspectsCount });
      const decision = c.decide(name, clock.now);
      if (suspectsCount) expect(decision).toMatchObject({ run: true });
      else expect(decision).toMatchObject({ run: false, reason: 'no-quorum', detail: '1 of 3 servers alive, 2 needed' });
    }
  });

  it('takes over at once from an owner declared offline, and releases when handing over to a member that comes back', () => {
    const { clock, peer, ownership, c, transitions } = coordinator();
    peer.join(P);
    peer.join(Q); // three servers: the quorum survives one failure
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, P, SELF);
    c.register(name);
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'not-owner' });
    clock.now += 1000;
    peer.fail(P);
    expect(transitions.at(-1)).toEqual({ type: 'acquired', name, owner: SELF, previous: P, viewId: ownership.viewId(), reason: `took over from ${P} (it is offline)`, runsFrom: clock.now });
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
    // P comes back (a newer word of its own): the name goes back to it, and this server lets go at once
    peer.join(P);
    expect(transitions.at(-1)).toEqual({ type: 'released', name, owner: P, previous: SELF, viewId: ownership.viewId(), reason: `handed over to ${P}` });
    expect(c.held()).toEqual([]);
  });

  it('becoming the owner while the previous owner is still a member waits the hand-over delay', () => {
    const { clock, engine, peer, ownership, c, transitions } = coordinator();
    peer.join(P);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, SELF, P);
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
    engine.setOnline(false); // taken offline by control: P owns it now
    expect(transitions.at(-1)).toMatchObject({ type: 'released', owner: P, reason: `handed over to ${P}` });
    clock.now += 5000;
    engine.setOnline(true);
    expect(transitions.at(-1)).toEqual({
      type: 'acquired',
      name,
      owner: SELF,
      previous: P,
      viewId: ownership.viewId(),
      reason: `became its owner while ${P} is still a member: hand-over delay ${HAND_OVER_MS} ms`,
      runsFrom: clock.now + HAND_OVER_MS,
    });
    expect(c.decide(name, clock.now + HAND_OVER_MS - 1)).toMatchObject({ run: false, reason: 'hand-over' });
    clock.now += HAND_OVER_MS;
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
  });

  it('releases on losing quorum, on going offline and on not being joined, each with its reason', () => {
    const { clock, engine, peer, ownership, c, transitions, setJoined } = coordinator();
    peer.join(P);
    peer.join(Q);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, SELF);
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
    const before = transitions.length;
    peer.fail(P);
    expect(transitions).toHaveLength(before); // 2 of 3 alive: still a majority, still held
    expect(c.held()).toEqual([name]);
    peer.fail(Q);
    expect(transitions.at(-1)).toMatchObject({ type: 'released', name, owner: SELF, reason: 'lost quorum (1 of 3 alive, 2 needed)' });

    const other = coordinator();
    other.clock.now += HAND_OVER_MS;
    expect(other.c.decide('report', other.clock.now)).toMatchObject({ run: true });
    other.engine.setOnline(false);
    expect(other.transitions.at(-1)).toMatchObject({ type: 'released', owner: undefined, reason: 'no eligible member (this server is offline)' });

    const third = coordinator();
    third.clock.now += HAND_OVER_MS;
    expect(third.c.decide('report', third.clock.now)).toMatchObject({ run: true });
    third.setJoined(false);
    third.c.refresh();
    expect(third.transitions.at(-1)).toMatchObject({ type: 'released', owner: SELF, reason: 'this process has not joined' });
    void engine;
    void setJoined;
  });

  it('a listener that throws is logged; an unsubscribed one hears nothing more', () => {
    const w = world();
    const warnings: string[] = [];
    const ownership = new KeyOwnership(w.engine);
    const c = new SingletonCoordinator(w.engine, ownership, { handOverDelayMs: HAND_OVER_MS, now: () => w.clock.now, joined: () => true, log: { warn: (m) => warnings.push(m), debug: () => undefined } });
    c.onTransition(() => {
      throw new Error('listener bug');
    });
    const heard: string[] = [];
    const off = c.onTransition((t) => heard.push(t.type));
    c.register('report');
    expect(heard).toEqual(['acquired']);
    expect(warnings).toEqual(['singleton listener threw: listener bug']);
    off();
    w.engine.setOnline(false);
    expect(heard).toEqual(['acquired']);
  });

  it('names the successor of each singleton it holds: the second of its preference list', () => {
    const { clock, peer, ownership, c } = coordinator();
    peer.join(P);
    peer.join(Q);
    clock.now += HAND_OVER_MS;
    const toP = nameOwnedBy(ownership, SELF, P);
    const toQ = nameOwnedBy(ownership, SELF, Q);
    const notMine = nameOwnedBy(ownership, P);
    c.register(toP);
    c.register(notMine);
    expect(c.successors()).toEqual([P]);
    c.register(toQ);
    expect(c.successors().sort()).toEqual([P, Q].sort());
  });

  it('stops following the engine once closed', () => {
    const { clock, peer, ownership, c, transitions } = coordinator();
    clock.now += HAND_OVER_MS;
    c.register('report');
    const count = transitions.length;
    c.close();
    peer.join(P);
    peer.join(Q);
    expect(transitions).toHaveLength(count);
    void ownership;
  });
});
