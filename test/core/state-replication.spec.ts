import { ClusterEngine, type GossipTransport, type StateChange, type StateDelta } from '../../lib/core/index.js';

/**
 * Key/value replication wired to membership (StateReplication), through a real engine: which
 * deltas it takes (servers in the view, the right process), what it passes on, what it refuses
 * and logs, how it refutes a claim about its own state, and what its listeners hear.
 */
const T0 = 1_800_000_000_000;
const SELF = 'http://self.test:1/';
const PEER = 'http://peer.test:1/';
const offline = () => Promise.reject(new Error('offline'));
const transport: GossipTransport = { exchange: offline, probe: offline, sync: offline };

function engine(network: GossipTransport = transport) {
  const clock = { now: T0 };
  const warnings: string[] = [];
  const e = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0 }, { now: () => clock.now, random: () => 0.5, transport: network, log: { warn: (m) => warnings.push(m), debug: () => {} } });
  const changes: StateChange[] = [];
  e.onStateChange((c) => changes.push(c));
  e.start();
  /** What the next probe's ack carries of key/value state (the piggyback queue). */
  const queued = async (): Promise<StateDelta[]> => (await e.handleProbe({ message: 'probe', online: [], offline: [] })).state ?? [];
  return { e, clock, warnings, changes, queued };
}

const delta = (over: Partial<StateDelta> = {}): StateDelta => ({ server: PEER, from: 0, to: T0 - 10, entries: [{ key: 'k', version: T0 - 10, value: 1 }], ...over });

describe('StateReplication.merge', () => {
  it('takes a delta about a server in the view, tells its listeners, and passes it on once', async () => {
    const { e, changes, queued } = engine();
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 100 }], offline: [] }, 'test');
    const d = delta();
    expect(e.mergeState([d], 'test')).toEqual([{ type: 'update', server: PEER, key: 'k', value: 1, version: T0 - 10 }]);
    expect(changes).toEqual([{ type: 'update', server: PEER, key: 'k', value: 1, version: T0 - 10 }]);
    expect(await queued()).toEqual([d]);
    // once its transmissions are spent, the same delta again is no news: nothing heard, nothing queued
    for (let i = 0; i < 20 && (await queued()).length; i++);
    expect(await queued()).toEqual([]);
    changes.length = 0;
    expect(e.mergeState([d], 'test')).toEqual([]);
    expect(changes).toEqual([]);
    expect(await queued()).toEqual([]);
    expect(e.stats().entriesRefused).toBe(0);
  });

  it('skips what is not a delta and deltas about servers outside the view, without counting a refusal', () => {
    const { e, changes, warnings } = engine();
    expect(e.mergeState([null, undefined, { ...delta(), server: 7 }, delta({ server: 'http://stranger.test:1/' })] as unknown as StateDelta[], 'test')).toEqual([]);
    expect(e.stateSnapshot()).toEqual({});
    expect(changes).toEqual([]);
    expect(warnings).toEqual([]);
    expect(e.stats().entriesRefused).toBe(0);
  });

  it('refuses a bad delta with a count and a warning naming the server, the source and the reason, and keeps the good ones', () => {
    const { e, warnings } = engine();
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 100 }], offline: [] }, 'test');
    const bad = delta({ entries: [{ key: 'k', version: T0, value: 1 }] }); // a version above `to`
    expect(e.mergeState([bad, delta()], 'http://sender.test:1/\n')).toEqual([{ type: 'update', server: PEER, key: 'k', value: 1, version: T0 - 10 }]);
    expect(e.stats().entriesRefused).toBe(1);
    expect(warnings).toEqual([`refused key/value state of "${PEER}" from http://sender.test:1/\\u000a: key "k": version outside the delta (do all servers use the same state limits?)`]);
  });

  it('a claim about our own state that we never issued: refuted once per message, with versions above the claim', async () => {
    const { e, queued, changes } = engine();
    e.setLocalState('mine', 'v');
    const ownBefore = e.stateVersion(SELF);
    await queued(); // drain the write's own delta
    const claims = [delta({ server: SELF, from: 0, to: T0 + 30_000, entries: [] }), delta({ server: SELF, from: 0, to: T0 + 50_000, floor: T0 + 40_000, entries: [] }), delta({ server: SELF, from: 0, to: T0 + 20_000, entries: [] })];
    changes.length = 0;
    expect(e.mergeState(claims, 'test')).toEqual([]);
    expect(changes).toEqual([]);
    expect(e.stats().stateRefutations).toBe(1);
    // our keys re-issued above the highest claim, as a reset listing them
    const own = e.stateVersion(SELF);
    expect(own).toBeGreaterThan(T0 + 50_000);
    expect(own).toBeGreaterThan(ownBefore);
    const reset = (await queued()).find((d) => d.server === SELF);
    expect(reset).toMatchObject({ server: SELF, to: own, entries: [{ key: 'mine', version: own, value: 'v' }] });
    expect(reset?.floor).toBeDefined();
    // a claim we hold (not above our watermark) is no news
    expect(e.mergeState([delta({ server: SELF, from: 0, to: own, entries: [] })], 'test')).toEqual([]);
    expect(e.stats().stateRefutations).toBe(1);
  });

  it('a delta about this server is checked even before the view holds it (before the start): a bad one is refused', () => {
    const warnings: string[] = [];
    const f = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0 }, { now: () => T0, random: () => 0.5, transport, log: { warn: (m) => warnings.push(m), debug: () => {} } });
    expect(f.member(SELF)).toBeUndefined();
    f.mergeState([delta({ server: SELF, entries: [{ key: 'k', version: T0, value: 1 }] })], 'test');
    expect(f.stats().entriesRefused).toBe(1);
    expect(warnings).toEqual([`refused key/value state of "${SELF}" from test: key "k": version outside the delta (do all servers use the same state limits?)`]);
  });

  it('a stopped server does not refute', () => {
    const { e } = engine();
    e.setLocalState('mine', 'v');
    e.stop();
    e.mergeState([delta({ server: SELF, from: 0, to: T0 + 30_000, entries: [] })], 'test');
    expect(e.stats().stateRefutations).toBe(0);
  });
});

describe('StateReplication: which process a server\'s keys belong to', () => {
  /** PEER in the view as `entry` says; a delta of generation `generation` offered. */
  function offer(entry: { generation?: number; online: boolean }, generation: number) {
    const { e } = engine();
    const wire = { baseUrl: PEER, monitor: false, lastUpdate: T0 - 100, ...(entry.generation ? { generation: entry.generation } : {}) };
    e.merge(entry.online ? { online: [wire], offline: [] } : { online: [], offline: [wire] }, 'test');
    e.mergeState([delta({ generation })], 'test');
    return e.peerValue(PEER, 'k');
  }

  it('takes keys of the process the view holds, or of any when the view names none', () => {
    expect(offer({ generation: T0 - 5000, online: true }, T0 - 5000)).toBe(1);
    expect(offer({ online: true }, T0 - 5000)).toBe(1);
  });

  it('takes keys of a newer process only when the view holds the old one offline', () => {
    expect(offer({ generation: T0 - 5000, online: false }, T0 - 4000)).toBe(1);
    expect(offer({ generation: T0 - 5000, online: true }, T0 - 4000)).toBeUndefined();
    expect(offer({ generation: T0 - 5000, online: false }, T0 - 6000)).toBeUndefined();
    expect(offer({ generation: T0 - 5000, online: true }, T0 - 6000)).toBeUndefined();
  });

  it('a restart the view learns drops the old process\'s keys, and listeners hear each as deleted', () => {
    const { e, changes } = engine();
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 100, generation: T0 - 5000 }], offline: [] }, 'test');
    e.mergeState([delta({ generation: T0 - 5000 })], 'test');
    changes.length = 0;
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 50, generation: T0 - 60 }], offline: [] }, 'test');
    expect(changes).toEqual([{ type: 'update', server: PEER, key: 'k', value: undefined, version: T0 - 10 }]);
    expect(e.peerValue(PEER, 'k')).toBeUndefined();
  });
});

describe('StateReplication: local writes, expiry, listeners', () => {
  it('a write and a delete are queued and heard; deleting a key not set is false and silent', async () => {
    const { e, changes, queued } = engine();
    e.setLocalState('a', 1);
    const version = e.stateVersion(SELF);
    expect(changes).toEqual([{ type: 'update', server: SELF, key: 'a', value: 1, version }]);
    expect(await queued()).toEqual([expect.objectContaining({ server: SELF, to: version, entries: [{ key: 'a', version, value: 1 }] })]);
    changes.length = 0;
    expect(e.deleteLocalState('b')).toBe(false);
    expect(changes).toEqual([]);
    expect(e.deleteLocalState('a')).toBe(true);
    const deleted = e.stateVersion(SELF);
    expect(changes).toEqual([{ type: 'update', server: SELF, key: 'a', value: undefined, version: deleted }]);
    expect((await queued()).find((d) => d.server === SELF)?.entries).toContainEqual({ key: 'a', version: deleted, deleted: true });
  });

  it('an own key expires into a tombstone that is queued, and listeners hear the expiry', async () => {
    const { e, clock, changes, queued } = engine();
    e.setLocalState('t', 1, T0 + 1000);
    await queued();
    await queued();
    changes.length = 0;
    clock.now = T0 + 1000;
    e.maintain();
    expect(changes).toEqual([expect.objectContaining({ type: 'expire', server: SELF, key: 't' })]);
    expect((await queued()).find((d) => d.server === SELF)?.entries).toContainEqual(expect.objectContaining({ key: 't', deleted: true, expired: true }));
  });

  it('an unsubscribed listener hears nothing more', () => {
    const { e } = engine();
    const heard: StateChange[] = [];
    const off = e.onStateChange((c) => heard.push(c));
    e.setLocalState('a', 1);
    off();
    e.setLocalState('a', 2);
    expect(heard.map((c) => c.type === 'update' && c.value)).toEqual([1]);
  });

  it('a server removed from the view takes its keys with it', async () => {
    // a 403: the peer belongs to another cluster and leaves the view
    const { e } = engine({ ...transport, sync: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })) });
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 100 }], offline: [] }, 'test');
    e.mergeState([delta()], 'test');
    expect(e.stateVersion(PEER)).toBe(T0 - 10);
    await e.syncWith(PEER);
    expect(e.member(PEER)).toBeUndefined();
    expect(e.stateVersion(PEER)).toBe(0);
    expect(e.stateSnapshot()).toEqual({});
  });
});

describe('StateReplication: generations and announcements of this process', () => {
  it('keys written before the start are re-issued under the new generation, as a reset', async () => {
    // an engine not started yet (engine() starts its own)
    const clock = { now: T0 };
    const f = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0 }, { now: () => clock.now, random: () => 0.5, transport, log: { warn: () => {}, debug: () => {} } });
    f.setLocalState('early', 1);
    const before = f.stateVersion(SELF);
    clock.now = T0 + 1000;
    f.start();
    const generation = f.self().generation!;
    expect(generation).toBeGreaterThan(before);
    const ack = await f.handleProbe({ message: 'probe', online: [], offline: [] });
    const reset = (ack.state ?? []).find((d) => d.server === SELF && d.floor !== undefined);
    expect(reset).toMatchObject({ server: SELF, from: 0, generation, entries: [expect.objectContaining({ key: 'early', value: 1 })] });
    expect(reset!.entries[0].version).toBeGreaterThanOrEqual(generation);
  });

  it('after the first successful sync, this server\'s whole state is queued again (announced)', async () => {
    const answers: GossipTransport = { ...transport, sync: async () => ({ message: 'sync', hash: 'ffffffffffffffff' }) };
    const { e, queued } = engine(answers);
    e.merge({ online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 100 }], offline: [] }, 'test');
    e.setLocalState('a', 1);
    e.setLocalState('b', 2);
    for (let i = 0; i < 20 && (await queued()).length; i++);
    expect(await queued()).toEqual([]);
    expect((await e.gossipRound()).ok).toBe(true);
    const announced = (await queued()).find((d) => d.server === SELF);
    expect(announced?.entries.map((x) => x.key)).toEqual(['a', 'b']);
  });

  it('a listener that throws is logged by kind, and the others still hear the change', () => {
    const { e, warnings, changes } = engine();
    e.onStateChange(() => {
      throw new Error('boom');
    });
    const after: StateChange[] = [];
    e.onStateChange((c) => after.push(c));
    e.setLocalState('a', 1);
    expect(warnings).toEqual(['state listener threw: boom']);
    expect(changes).toHaveLength(1);
    expect(after).toHaveLength(1);
  });
});
