/**
 * The singleton coordinator's rules that test/core/coordination.spec.ts leaves open (each found
 * by a surviving mutant, docs/mutation.md): from when the hand-over delay counts (the first time
 * this process is seen joined, the last change of the eligible set, a preloaded view), what a
 * server that regains an owner's role after losing quorum, going offline or not being joined
 * waits, and the exact shapes `decide`, `states` and `successors` answer. A real ClusterEngine
 * shaped with the words peers would gossip, on a manual clock; no network.
 */
import { DECLARER, SELF, T0, world } from '../support/engine-world.js';
import { KeyOwnership } from '../../lib/core/key-ownership.js';
import { SingletonCoordinator, singletonKey, type SingletonTransition } from '../../lib/core/singleton-coordinator.js';

const P = 'http://p:1/';
const Q = DECLARER;
const HAND_OVER_MS = 2000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A coordinator whose join state the test sets; the host's first refresh is at T0. */
function coordinator() {
  const w = world();
  const ownership = new KeyOwnership(w.engine);
  let joined = true;
  const c = new SingletonCoordinator(w.engine, ownership, { handOverDelayMs: HAND_OVER_MS, now: () => w.clock.now, joined: () => joined });
  const transitions: SingletonTransition[] = [];
  c.onTransition((t) => transitions.push(t));
  c.refresh();
  return { ...w, ownership, c, transitions, setJoined: (v: boolean) => (joined = v) };
}

/** A singleton name whose preference list over the current members starts with `first` (then `second`, if given). */
function nameOwnedBy(ownership: KeyOwnership, first: string, second?: string): string {
  for (let i = 0; i < 10_000; i++) {
    const [a, b] = ownership.owners(singletonKey(`job-${i}`), 2);
    if (a === first && (second === undefined || b === second)) return `job-${i}`;
  }
  throw new Error(`no name owned by ${first}`);
}

describe('the singleton coordinator: from when the hand-over delay counts', () => {
  it('from the first time it sees this process joined, not from its construction', () => {
    const w = world();
    const ownership = new KeyOwnership(w.engine);
    const c = new SingletonCoordinator(w.engine, ownership, { handOverDelayMs: HAND_OVER_MS, now: () => w.clock.now, joined: () => true });
    w.clock.now = T0 + 1000;
    c.refresh(); // first look at the join state: joined, from now
    w.clock.now = T0 + HAND_OVER_MS;
    expect(c.decide('report', w.clock.now)).toEqual({ run: false, name: 'report', fireTime: w.clock.now, reason: 'hand-over', owner: SELF, viewId: ownership.viewId(), detail: `hand-over: runs from ${iso(T0 + 1000 + HAND_OVER_MS)} on` });
    w.clock.now = T0 + 1000 + HAND_OVER_MS;
    expect(c.decide('report', w.clock.now)).toMatchObject({ run: true });
  });

  it('from the last change of the eligible members', () => {
    const { clock, peer, ownership, c } = coordinator();
    clock.now = T0 + 1500;
    peer.join(P);
    clock.now = T0 + 2500;
    const name = nameOwnedBy(ownership, SELF);
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'hand-over', detail: `hand-over: runs from ${iso(T0 + 1500 + HAND_OVER_MS)} on` });
    clock.now = T0 + 1500 + HAND_OVER_MS;
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
  });

  it('from when this process joined again after not being joined', () => {
    const { clock, c, setJoined } = coordinator();
    setJoined(false);
    clock.now = T0 + 1000;
    c.refresh();
    clock.now = T0 + 5000;
    setJoined(true);
    expect(c.decide('report', clock.now)).toMatchObject({ run: false, reason: 'hand-over', detail: `hand-over: runs from ${iso(T0 + 5000 + HAND_OVER_MS)} on` });
    clock.now = T0 + 5000 + HAND_OVER_MS;
    expect(c.decide('report', clock.now)).toMatchObject({ run: true });
  });
});

describe('the singleton coordinator: giving up and taking back a singleton', () => {
  it('a preloaded view (a lifecycle event, no membership events) hands over at once the names it moves', () => {
    const { clock, engine, ownership, c, transitions } = coordinator();
    clock.now += HAND_OVER_MS;
    const names = Array.from({ length: 10 }, (_, i) => `job-${i}`);
    for (const name of names) c.register(name);
    expect(c.held()).toEqual(names);
    expect(transitions).toHaveLength(10);
    engine.preload([{ baseUrl: P, monitor: false, lastUpdate: T0, online: true }]);
    const moved = names.filter((name) => ownership.owner(singletonKey(name)) === P);
    expect(moved.length).toBeGreaterThan(0);
    expect(transitions.slice(10)).toEqual(moved.map((name) => ({ type: 'released', name, owner: P, previous: SELF, viewId: ownership.viewId(), reason: `handed over to ${P}` })));
  });

  it('a name another server owns gives no transition at all', () => {
    const { clock, peer, ownership, c, transitions } = coordinator();
    peer.join(P);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, P);
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'not-owner' });
    expect(c.owned()).toEqual([]);
    expect(c.held()).toEqual([]);
    c.refresh();
    expect(transitions).toEqual([]);
  });

  it('regaining quorum in an unchanged view waits the hand-over delay: others may have taken over meanwhile', () => {
    const { clock, peer, ownership, c, transitions } = coordinator();
    peer.join(P);
    peer.join(Q);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, SELF);
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
    // suspects keep their keys (the eligible set does not change) but are not alive: 1 of 3
    peer.suspect(P, Q);
    peer.suspect(Q, P);
    expect(transitions.at(-1)).toEqual({ type: 'released', name, owner: SELF, previous: SELF, viewId: ownership.viewId(), reason: 'lost quorum (1 of 3 alive, 2 needed)' });
    clock.now += 10_000;
    peer.join(P); // P refutes: 2 of 3 alive again
    expect(transitions.at(-1)).toEqual({
      type: 'acquired',
      name,
      owner: SELF,
      previous: SELF,
      viewId: ownership.viewId(),
      reason: `owner with quorum (2 of 3 alive): hand-over delay ${HAND_OVER_MS} ms`,
      runsFrom: clock.now + HAND_OVER_MS,
    });
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'hand-over' });
    clock.now += HAND_OVER_MS;
    expect(c.decide(name, clock.now)).toMatchObject({ run: true });
  });

  it('coming back online after having no eligible member waits the hand-over delay (no take-over from nobody)', () => {
    const { clock, engine, ownership, c, transitions } = coordinator();
    clock.now += HAND_OVER_MS;
    expect(c.decide('solo', clock.now, 'none')).toMatchObject({ run: true });
    engine.setOnline(false);
    expect(transitions.at(-1)).toMatchObject({ type: 'released', name: 'solo', owner: undefined, previous: SELF });
    clock.now += 1000;
    engine.setOnline(true);
    expect(transitions.at(-1)).toEqual({
      type: 'acquired',
      name: 'solo',
      owner: SELF,
      previous: undefined,
      viewId: ownership.viewId(),
      reason: `owner with quorum (1 of 1 alive): hand-over delay ${HAND_OVER_MS} ms`,
      runsFrom: clock.now + HAND_OVER_MS,
    });
  });

  it('the owner going offline while this server was not joined is no take-over: it waits the hand-over delay, and says why', () => {
    const { clock, peer, ownership, c, transitions, setJoined } = coordinator();
    peer.join(P);
    peer.join(Q);
    clock.now += HAND_OVER_MS;
    const name = nameOwnedBy(ownership, P, SELF);
    c.register(name);
    setJoined(false);
    c.refresh(); // P owns it; this server has no say (not joined)
    clock.now += 1000;
    setJoined(true);
    peer.fail(P, Q);
    // it cannot know whether another server took over while it was not joined
    expect(transitions.at(-1)).toEqual({
      type: 'acquired',
      name,
      owner: SELF,
      previous: P,
      viewId: ownership.viewId(),
      reason: `became its owner after ${P} went offline, seen without quorum or before joining (another server may have taken over): hand-over delay ${HAND_OVER_MS} ms`,
      runsFrom: clock.now + HAND_OVER_MS,
    });
    expect(c.decide(name, clock.now)).toMatchObject({ run: false, reason: 'hand-over' });
  });

  it('once closed it follows nothing and tells no listener, even when asked to refresh', () => {
    const { clock, engine, c, transitions } = coordinator();
    clock.now += HAND_OVER_MS;
    expect(c.decide('report', clock.now)).toMatchObject({ run: true });
    const count = transitions.length;
    c.close();
    engine.setOnline(false); // would release 'report'
    expect(transitions).toHaveLength(count);
    c.refresh();
    expect(transitions).toHaveLength(count);
  });
});

describe('the singleton coordinator: the shapes it answers', () => {
  it('refuses a name that is not a string, with the same message as an empty one', () => {
    const { c } = coordinator();
    for (const bad of [null, undefined, 5, {}]) {
      expect(() => c.register(bad as unknown as string)).toThrow(new TypeError('a singleton needs a non-empty name'));
    }
    expect(() => c.decide(7 as unknown as string, T0)).toThrow(new TypeError('a singleton needs a non-empty name'));
  });

  it('with no eligible member (this server offline), decide says so', () => {
    const { clock, engine, ownership, c } = coordinator();
    clock.now += HAND_OVER_MS;
    engine.setOnline(false);
    expect(c.decide('report', clock.now)).toEqual({ run: false, name: 'report', fireTime: clock.now, reason: 'not-owner', owner: undefined, viewId: ownership.viewId(), detail: 'no eligible member' });
  });

  it('states() has no lastRunAt before a run and no owner without one', () => {
    const { clock, engine, c } = coordinator();
    c.register('report');
    const [before] = c.states();
    expect(before).toStrictEqual({ name: 'report', quorum: 'majority', owner: SELF, running: false });
    expect(before).not.toHaveProperty('lastRunAt');
    clock.now += HAND_OVER_MS;
    c.decide('report', clock.now);
    expect(c.states()).toStrictEqual([{ name: 'report', quorum: 'majority', owner: SELF, running: true, lastRunAt: clock.now }]);
    engine.setOnline(false);
    const [offline] = c.states();
    expect(offline).toStrictEqual({ name: 'report', quorum: 'majority', running: false, lastRunAt: clock.now });
    expect(offline).not.toHaveProperty('owner');
  });

  it('a server alone names no successor for what it holds', () => {
    const { clock, c } = coordinator();
    clock.now += HAND_OVER_MS;
    expect(c.decide('report', clock.now)).toMatchObject({ run: true });
    expect(c.successors()).toStrictEqual([]);
  });
});
