/**
 * A deterministic, seeded cluster on a virtual clock: the real ClusterEngine for every server
 * (the production code), a virtual network with loss, latency and partitions, and faults
 * (crash: connections refused; host lost: nothing answers at all; hang: accepted, never
 * answered, own timers frozen; starved:
 * own timers late; clock skew). Used by `npm run sim` and by the detector tests.
 */
import { ClusterEngine } from '../lib/core/cluster-engine.js';
import { nextTickAt } from '../lib/core/steady-tick.js';
import type { EngineSettings } from '../lib/core/engine-settings.js';
import { InMemoryNetwork } from './in-memory-network.js';
import { rankOf, type MemberEntry, type MembershipChange } from '../lib/core/membership-view.js';

/**
 * Real timers fire a little late, never early. Timeouts that fire on the exact millisecond hid a
 * bug: a probe tick that waited out its timeouts looked, by 1 ms, like a starved timer.
 */
const TIMER_SLACK_MS = 1;

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: fast, seedable, good enough for scheduling and loss
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

class EventQueue {
  private heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, run: () => void): void {
    const item = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at < item.at || (h[p].at === item.at && h[p].seq < item.seq)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = item;
  }

  pop(): { at: number; run: () => void } | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const less = (a: typeof last, b: typeof last) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
        if (l < h.length && less(h[l], m === i ? last : h[m])) m = l;
        if (r < h.length && less(h[r], m === i ? last : h[m])) m = r;
        if (m === i) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  peekAt(): number | undefined {
    return this.heap[0]?.at;
  }
}

export interface VirtualClusterOptions {
  size: number;
  seed: number;
  /** Engine settings shared by all servers (probe interval, etc.). */
  settings?: Partial<EngineSettings>;
  /** Full push-pull gossip interval (the page's SHAZBOT_GOSSIP_INTERVAL). */
  gossipIntervalMs?: number;
  requestTimeoutMs?: number;
  latencyMs?: [number, number];
  lossRate?: number;
}

export interface SimNode {
  url: string;
  engine: ClusterEngine;
  skewMs: number;
  crashed: boolean;
  /** Crashed with its host (power, network): connections time out instead of being refused. */
  silent: boolean;
  hung: boolean;
  /** Extra delay on this server's own timers (CPU starvation). */
  timerLagMs: number;
  group: number;
  /** False while a (re)started process gossips but does not listen yet (a Nest app gossips from init, before listen): connections are refused. */
  listening: boolean;
}

/** A simulated scenario's awaited event did not happen within its limit (virtual time). */
export class SimTimeout extends Error {
  constructor(
    readonly what: string,
    readonly limitMs: number,
  ) {
    super(`${what}: did not happen within ${limitMs} ms of virtual time`);
    this.name = 'SimTimeout';
  }
}

export class VirtualCluster {
  time = 1_800_000_000_000;
  readonly nodes: SimNode[] = [];
  readonly byUrl = new Map<string, SimNode>();
  readonly queue = new EventQueue();
  readonly random: () => number;
  lossRate: number;
  /** Offline declarations about servers that were alive (not crashed or hung) at that moment. */
  falseOfflines = 0;
  readonly changes: { at: number; observer: string; change: MembershipChange }[] = [];
  recordChanges = false;
  private readonly latency: [number, number];
  private readonly requestTimeoutMs: number;
  private readonly gossipIntervalMs: number;
  /** One frozen object per entry version, shared by every view (see MembershipView's `share`). */
  private sharedEntries = new Map<string, MemberEntry>();
  /** The network between the servers: every hop on the event queue, faults from the nodes' flags. */
  readonly network: InMemoryNetwork;
  private readonly shareEntry = (entry: MemberEntry): MemberEntry => {
    // the generation too: two processes at one URL (twins) may stamp the same moment
    const key = `${entry.baseUrl}|${entry.lastUpdate}|${rankOf(entry)}|${entry.monitor}|${entry.by ?? ''}|${entry.generation ?? ''}`;
    let shared = this.sharedEntries.get(key);
    if (!shared) {
      // versions still in views stay shared; the table itself only remembers recent ones
      if (this.sharedEntries.size >= 1_000_000) this.sharedEntries = new Map();
      shared = Object.freeze(entry);
      this.sharedEntries.set(key, shared);
    }
    return shared;
  };

  /** Characters of every request and reply sent. */
  get bytes(): number {
    return this.network.bytes;
  }

  /** Requests and replies sent. */
  get messages(): number {
    return this.network.messages;
  }

  constructor(private readonly options: VirtualClusterOptions) {
    this.random = seededRandom(options.seed);
    this.lossRate = options.lossRate ?? 0;
    this.latency = options.latencyMs ?? [1, 5];
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.gossipIntervalMs = options.gossipIntervalMs ?? 30_000;
    this.network = new InMemoryNetwork({
      timer: { after: (ms, run) => this.queue.push(this.time + ms, run) },
      latency: () => this.delay(),
      requestTimeoutMs: this.requestTimeoutMs,
      timerSlackMs: TIMER_SLACK_MS,
      hooks: {
        fate: (from, to) => {
          const peer = this.byUrl.get(to);
          // an unknown address, a lost message or a vanished host: nothing answers; a killed process: refused
          if (!peer || this.lost(this.byUrl.get(from)!, peer)) return 'drop';
          if (peer.crashed && peer.silent) return 'drop';
          return peer.crashed || !peer.listening ? 'refuse' : 'deliver';
        },
        replyLost: (from, to) => this.lost(this.byUrl.get(from)!, this.byUrl.get(to)!),
        frozen: (url) => this.byUrl.get(url)?.hung === true,
        gone: (url) => this.byUrl.get(url)?.crashed === true,
      },
    });
    for (let i = 0; i < options.size; i++) this.addNode(i);
  }

  private addNode(i: number): SimNode {
    const url = `http://n${i}.sim.invalid:8080/`; // virtual: .invalid never resolves, and nothing leaves the process
    const node: SimNode = { url, skewMs: 0, crashed: false, silent: false, hung: false, timerLagMs: 0, group: 0, listening: true, engine: undefined as unknown as ClusterEngine };
    node.engine = new ClusterEngine({ ...this.options.settings, selfUrl: url }, { now: () => Math.floor(this.time + node.skewMs), random: seededRandom(this.options.seed * 7919 + i + 1), transport: this.network.transportFor(url), shareEntry: this.shareEntry });
    this.network.attach(url, node.engine);
    node.engine.onChange((change) => {
      if (change.type === 'offline' && change.server.by === url) {
        const target = this.byUrl.get(change.server.baseUrl);
        if (target && !target.crashed && !target.hung) this.falseOfflines++;
      }
      if (this.recordChanges) this.changes.push({ at: this.time, observer: url, change });
    });
    this.nodes.push(node);
    this.byUrl.set(url, node);
    return node;
  }

  /** Starts every server with a view of everyone (a converged cluster), and their timers. */
  startConverged(): void {
    // every engine stamps itself at start; the others hold that very stamp, so nothing is news.
    // One frozen entry per server, shared by every view: 10,000 views of 10,000 entries fit in memory.
    for (const node of this.nodes) node.engine.start();
    const entries = this.nodes.map((n) => Object.freeze(n.engine.self()));
    for (const node of this.nodes) {
      node.engine.preload(entries);
      this.scheduleTimers(node, this.random() * (node.engine.settings.probeIntervalMs || 1000), this.random() * this.gossipIntervalMs);
    }
  }

  /** Starts every server knowing only the first one (a cold start from one seed). */
  startFromSeed(): void {
    for (const node of this.nodes) {
      node.engine.start();
      node.engine.addSeeds([this.nodes[0].url]);
      this.scheduleTimers(node, this.random() * (node.engine.settings.probeIntervalMs || 1000), this.random() * Math.min(this.gossipIntervalMs, 1000));
    }
  }

  private scheduleTimers(node: SimNode, probeDelay: number, gossipDelay: number): void {
    const probeInterval = node.engine.settings.probeIntervalMs;
    // a restart makes a new engine with its own timers: the old ones stop with the old engine
    const engine = node.engine;
    const probe = () => {
      if (node.crashed || node.engine !== engine) return;
      if (node.hung) return this.queue.push(this.time + 50, probe); // frozen: the timer fires when it resumes
      // the steady-tick policy GossipService uses (see nextTickAt)
      const startedAt = this.time;
      void engine.probeTick().finally(() => this.queue.push(nextTickAt(startedAt, this.time, probeInterval) + node.timerLagMs, probe));
    };
    const gossip = () => {
      if (node.crashed || node.engine !== engine) return;
      if (node.hung) return this.queue.push(this.time + 50, gossip);
      void node.engine.gossipRound();
      this.queue.push(this.time + this.gossipIntervalMs * (0.75 + this.random() / 2) + node.timerLagMs, gossip);
    };
    const pushInterval = node.engine.settings.pushIntervalMs;
    const push = () => {
      if (node.crashed || node.engine !== engine) return;
      if (node.hung) return this.queue.push(this.time + 50, push);
      const startedAt = this.time;
      void engine.pushTick().finally(() => this.queue.push(nextTickAt(startedAt, this.time, pushInterval) + node.timerLagMs, push));
    };
    if (probeInterval > 0) this.queue.push(this.time + probeDelay, probe);
    if (pushInterval > 0) this.queue.push(this.time + this.random() * pushInterval, push);
    if (Number.isFinite(this.gossipIntervalMs)) this.queue.push(this.time + gossipDelay, gossip);
  }

  private lost(from: SimNode, to: SimNode): boolean {
    return from.group !== to.group || this.random() < this.lossRate;
  }

  private delay(): number {
    const [min, max] = this.latency;
    return min + this.random() * (max - min);
  }

  /** Runs the event loop until virtual time `until`, letting promise chains settle between events. */
  async runUntil(until: number, stop?: () => boolean): Promise<void> {
    let steps = 0;
    while ((this.queue.peekAt() ?? Infinity) <= until) {
      const event = this.queue.pop()!;
      this.time = event.at;
      event.run();
      // drain microtasks so async engine code runs to its next await before time moves on
      for (let i = 0; i < 8; i++) await Promise.resolve();
      if (++steps % 64 === 0 && stop?.()) return;
    }
    this.time = Math.max(this.time, until);
  }

  async runFor(ms: number, stop?: () => boolean): Promise<void> {
    await this.runUntil(this.time + ms, stop);
  }

  /**
   * Runs until `check` holds (checked every `everyMs`) and returns the elapsed virtual ms. Throws
   * (SimTimeout, naming `what`) when `limitMs` passes first: a figure that never happened is a
   * failure, never a number that a `≤ bound` assertion would let through.
   */
  async timeUntil(check: () => boolean, limitMs: number, everyMs = 100, what = 'the awaited condition'): Promise<number> {
    const start = this.time;
    while (this.time - start < limitMs) {
      if (check()) return this.time - start;
      await this.runFor(everyMs);
    }
    if (check()) return this.time - start;
    throw new SimTimeout(what, limitMs);
  }

  live(): SimNode[] {
    return this.nodes.filter((n) => !n.crashed && !n.hung);
  }

  /** How many live servers see `url` in a state for which `test` holds. */
  seenBy(url: string, test: (entry: ReturnType<ClusterEngine['member']>) => boolean, observers = this.live()): number {
    return observers.filter((n) => n.url !== url && test(n.engine.member(url))).length;
  }

  /** The process dies (connections refused), or with `silent` its whole host goes (connections time out). */
  crash(node: SimNode, silent = false): void {
    node.crashed = true;
    node.silent = silent;
    node.engine.stop();
  }

  /**
   * Restarts a crashed server: a new engine (new process), knowing one seed. With
   * `listenAfterMs`, it gossips at once but refuses connections that long (a Nest app starts
   * gossiping at init, before `listen`).
   */
  restart(node: SimNode, seed: string, options: { listenAfterMs?: number } = {}): void {
    const i = this.nodes.indexOf(node);
    node.crashed = false;
    node.silent = false;
    node.hung = false;
    const fresh = new ClusterEngine({ ...this.options.settings, selfUrl: node.url }, { now: () => Math.floor(this.time + node.skewMs), random: seededRandom(this.options.seed * 104729 + i), transport: this.network.transportFor(node.url), shareEntry: this.shareEntry });
    node.engine = fresh;
    this.network.attach(node.url, fresh);
    node.listening = !options.listenAfterMs;
    if (options.listenAfterMs) {
      this.queue.push(this.time + options.listenAfterMs, () => {
        if (node.engine === fresh) node.listening = true;
      });
    }
    fresh.start();
    fresh.addSeeds([seed]);
    this.scheduleTimers(node, 0, 0);
  }

  /**
   * A second process configured with `node`'s URL (a copy-pasted configuration): it gossips
   * from that URL with its own generation, but the URL reaches `node`, not it.
   */
  addTwin(node: SimNode): SimNode {
    const twin: SimNode = { ...node, engine: undefined as unknown as ClusterEngine, crashed: false, silent: false, hung: false, listening: true };
    // its requests are its own (their replies come back to it, whatever happens to `node`), but
    // requests to the URL reach `node`
    const twinId = `${node.url}#twin`;
    this.byUrl.set(twinId, twin);
    twin.engine = new ClusterEngine({ ...this.options.settings, selfUrl: node.url }, { now: () => Math.floor(this.time + twin.skewMs), random: seededRandom(this.options.seed * 31337 + 17), transport: this.network.transportFor(twinId), shareEntry: this.shareEntry });
    twin.engine.onChange((change) => {
      if (this.recordChanges) this.changes.push({ at: this.time, observer: `${node.url}#twin`, change });
    });
    twin.engine.start();
    twin.engine.addSeeds(this.nodes.filter((n) => n !== node).map((n) => n.url).slice(0, 1));
    this.scheduleTimers(twin, 0, 0);
    return twin;
  }

  partition(groupOf: (node: SimNode, index: number) => number): void {
    this.nodes.forEach((n, i) => (n.group = groupOf(n, i)));
  }

  heal(): void {
    for (const n of this.nodes) n.group = 0;
  }
}
