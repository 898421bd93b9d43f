/**
 * Measurements of key/value state and digest-and-delta sync on the real engine: bytes per
 * exchange, rounds until a key update reaches everyone, staleness under a byte budget.
 */
import { ClusterEngine } from '../lib/core/cluster-engine.js';
import type { EngineSettings } from '../lib/core/engine-settings.js';
import { InMemoryNetwork } from './in-memory-network.js';
import type { MemberEntry } from '../lib/core/membership-view.js';
import type { StateDelta } from '../lib/core/replicated-state.js';
import { seededRandom, VirtualCluster } from './virtual-cluster.js';

const PROBE_MS = 1000;
const T0 = 1_800_000_000_000;

/** Two engines on the in-memory network, counting the bytes of every request and answer. */
class Pair {
  time = T0 + 60_000;
  private readonly network = new InMemoryNetwork();
  readonly a: ClusterEngine;
  readonly b: ClusterEngine;

  constructor(settings: Partial<EngineSettings>) {
    const engine = (url: string, seed: number) => {
      const e = new ClusterEngine({ ...settings, selfUrl: url, probeIntervalMs: 0 }, { now: () => this.time, random: seededRandom(seed), transport: this.network.transportFor(url) });
      this.network.attach(url, e);
      return e;
    };
    this.a = engine('http://a.sim.invalid:8080/', 1);
    this.b = engine('http://b.sim.invalid:8080/', 2);
    this.a.start();
    this.b.start();
  }

  get bytes(): number {
    return this.network.bytes;
  }

  get requests(): number {
    return this.network.requests;
  }

  /** Gives both the same view: each other, plus `n - 2` servers with `keys` keys of `valueBytes`. */
  fill(n: number, keys: number, valueBytes: number): void {
    for (const [x, y] of [
      [this.a, this.b],
      [this.b, this.a],
    ]) x.preload([y.self()]);
    for (let i = 0; i < n - 2; i++) {
      const url = `http://n${i}.sim.invalid:8080/`;
      const entry: MemberEntry = Object.freeze({ baseUrl: url, monitor: false, lastUpdate: T0 + i, online: true });
      this.a.preload([entry]);
      this.b.preload([entry]);
      if (keys > 0) {
        const version = T0 + i * 100;
        const delta: StateDelta = {
          server: url,
          from: 0,
          to: version + keys,
          floor: version,
          entries: Array.from({ length: keys }, (_, k) => ({ key: `key-${k}`, version: version + k + 1, value: 'x'.repeat(valueBytes - 2) })),
        };
        this.a.mergeState([delta], 'fill');
        this.b.mergeState([delta], 'fill');
      }
    }
  }

  /** Bytes and requests of one sync started by `a`. */
  async measure(): Promise<{ bytes: number; requests: number }> {
    const bytes0 = this.bytes;
    const requests0 = this.requests;
    await this.a.syncWith(this.b.settings.selfUrl);
    return { bytes: this.bytes - bytes0, requests: this.requests - requests0 };
  }
}

export interface ExchangeBytes {
  n: number;
  keysPerServer: number;
  /** One sync when both views are equal. */
  equal: number;
  /** One sync with one membership change pending on one side. */
  oneMemberChange: number;
  /** One sync with one key change pending on one side. */
  oneKeyChange: number;
  /** HTTP requests the one-change syncs took. */
  requestsWithChange: number;
  /** The page's full-list exchange of the same views, for comparison. */
  fullList: number;
}

/** Bytes per sync exchange between two servers holding views of `n` servers. */
export async function exchangeBytes(o: { size: number; keysPerServer: number; valueBytes: number; budget?: number }): Promise<ExchangeBytes> {
  const pair = new Pair(o.budget ? { messageBudgetBytes: o.budget } : {});
  pair.fill(o.size, o.keysPerServer, o.valueBytes);
  const equal = await pair.measure();
  // one membership change: a server seen by `a` with a newer stamp
  const changed = { ...pair.a.member('http://n1.sim.invalid:8080/')!, lastUpdate: T0 + 30_000 };
  pair.a.merge({ online: [changed], offline: [] }, 'test');
  const member = await pair.measure();
  // one key change: this server sets a key
  pair.a.setLocalState('load', 0.42);
  const key = await pair.measure();
  const again = await pair.measure();
  if (again.bytes !== equal.bytes) throw new Error(`views did not converge: ${again.bytes} bytes after the repairs`);
  const bytes0 = pair.bytes;
  await pair.a.exchangeWith(pair.b.settings.selfUrl);
  return {
    n: o.size,
    keysPerServer: o.keysPerServer,
    equal: equal.bytes,
    oneMemberChange: member.bytes,
    oneKeyChange: key.bytes,
    requestsWithChange: Math.max(member.requests, key.requests),
    fullList: pair.bytes - bytes0,
  };
}

/** Probe intervals until a key set on one server is held by every server. */
export async function keyDissemination(o: { size: number; seed: number; lossRate?: number }): Promise<number> {
  const c = new VirtualCluster({ size: o.size, seed: o.seed, settings: { probeIntervalMs: PROBE_MS }, lossRate: o.lossRate, gossipIntervalMs: 30_000 });
  c.startConverged();
  await c.runFor(15 * PROBE_MS);
  const source = c.nodes[1 + Math.floor(c.random() * (c.nodes.length - 1))];
  source.engine.setLocalState('version', '2.4.1');
  const ms = await c.timeUntil(() => c.nodes.every((n) => n.engine.peerValue(source.url, 'version') === '2.4.1'), 600 * PROBE_MS, PROBE_MS / 10, 'the key on every server');
  return ms / PROBE_MS;
}

export interface Staleness {
  n: number;
  budget: number;
  /** Bytes of new values written per second, cluster-wide, against what every server can send per second. */
  updateBytesPerSecond: number;
  /** How old the value each server holds of each other server's key is, in probe intervals (median, p99, max). */
  medianIntervals: number;
  p99Intervals: number;
  maxIntervals: number;
  /** After the writers stop, intervals until every server holds every latest value (SimTimeout: never). */
  drainIntervals: number;
}

/**
 * Every server rewrites one 100-byte key every interval while the message budget is far
 * below that rate; samples how stale each server's copy of each other server's key is.
 */
export async function stalenessUnderBudget(o: { size: number; seed: number; budget: number; seconds: number }): Promise<Staleness> {
  const c = new VirtualCluster({ size: o.size, seed: o.seed, settings: { probeIntervalMs: PROBE_MS, messageBudgetBytes: o.budget }, gossipIntervalMs: 5_000 });
  c.startConverged();
  await c.runFor(5 * PROBE_MS);
  const written = new Map<string, number>(); // url -> time of its latest write
  const samples: number[] = [];
  const payload = 'p'.repeat(80);
  let counter = 0;
  for (let s = 0; s < o.seconds; s++) {
    for (const n of c.nodes) {
      n.engine.setLocalState('load', `${payload}-${counter++}`);
      written.set(n.url, c.time);
    }
    await c.runFor(PROBE_MS);
    if (s < 5) continue;
    for (const observer of c.nodes) {
      for (const owner of c.nodes) {
        if (owner === observer) continue;
        const held = observer.engine.peerValue(owner.url, 'load') as string | undefined;
        const ownValue = owner.engine.peerValue(owner.url, 'load') as string;
        // age: how many writes behind, one write per interval
        const behind = held === undefined ? s + 1 : Number(ownValue.split('-').pop()) - Number(held.split('-').pop());
        samples.push(held === undefined ? s + 1 : behind / c.nodes.length);
      }
    }
  }
  const latest = () => c.nodes.every((observer) => c.nodes.every((owner) => observer.engine.peerValue(owner.url, 'load') === owner.engine.peerValue(owner.url, 'load')));
  const drained = await c.timeUntil(latest, 600 * PROBE_MS, PROBE_MS / 2, 'every latest value on every server');
  samples.sort((a, b) => a - b);
  const at = (q: number) => +samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(1);
  return {
    n: o.size,
    budget: o.budget,
    updateBytesPerSecond: Math.round(o.size * (payload.length + 60)),
    medianIntervals: at(0.5),
    p99Intervals: at(0.99),
    maxIntervals: +samples[samples.length - 1].toFixed(1),
    drainIntervals: drained / PROBE_MS,
  };
}
