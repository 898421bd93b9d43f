import type { JoinState } from './engine-lifecycle.js';
import { notifyAll, type EngineLog } from './engine-log.js';
import type { KeyOwnership, OwnershipSource } from './key-ownership.js';
import { checkQuorum, countQuorum, type QuorumCount, type QuorumOption, type QuorumReport } from './quorum.js';

/**
 * The fencing key of one run of a singleton: what the job hands to whatever it writes, so that
 * a store can refuse a second effect of one fire (`runKey` as an idempotency key) or a stale
 * one (`fireTime` only grows). Kubernetes' client-go leader election says it plainly: it does
 * not fence; neither does this. During a view divergence two servers may run one fire, and
 * only the store can tell them apart.
 */
export interface SingletonRun {
  /** The singleton's name. */
  name: string;
  /** The fire this run is for, ms since epoch (a cron fire: its second; otherwise the time of the call). Equal on every server for one cron fire. */
  fireTime: number;
  /** `<name>@<fireTime>`: one per fire, whoever runs it (node-cron's distributed run key). */
  runKey: string;
  /** This server's base URL (the owner that runs it). */
  owner: string;
  /** This process's generation (its start stamp): tells a restarted owner from its predecessor. */
  generation: number;
  /** The eligible set's fingerprint when the run was decided (see KeyOwnership.viewId). */
  viewId: string;
}

/**
 * Why a fire was skipped on this server:
 * - `not-owner`: another server owns the singleton's name;
 * - `no-quorum`: this server owns it but does not see the quorum alive;
 * - `not-joined`: this process has not synced with the cluster yet (its view is its own guess);
 * - `hand-over`: this server has just become the owner while the previous one may still be
 *   running (it joined, came back, or a partition healed): it waits the hand-over delay, so
 *   the previous owner learns of the change first.
 */
export type SkipReason = 'not-owner' | 'no-quorum' | 'not-joined' | 'hand-over';

/** What `decide` found. */
export type SingletonDecision =
  | { run: true; fencing: SingletonRun }
  | { run: false; name: string; fireTime: number; reason: SkipReason; owner?: string; viewId: string; detail: string };

/** This server started or stopped being the one that runs a singleton (logged once per change). */
export interface SingletonTransition {
  type: 'acquired' | 'released';
  name: string;
  /** The owner in this server's view after the change (undefined: no eligible member). */
  owner?: string;
  /** The owner before the change, in this server's view. */
  previous?: string;
  viewId: string;
  /** In words: "took over from … (it went offline)", "handed over to …", "lost quorum (2 of 5 alive, 3 needed)"… */
  reason: string;
  /** For `acquired`: when this server starts running it (ms; later than now during a hand-over delay). */
  runsFrom?: number;
}

/** A singleton this server knows of, as `status()` lists it. */
export interface SingletonState {
  name: string;
  quorum: QuorumOption;
  /** The owner in this server's view. */
  owner?: string;
  /** Whether this server runs it now (owner, quorum, joined, past any hand-over delay). */
  running: boolean;
  /** The fire time of its last run on this server. */
  lastRunAt?: number;
}

/** What the coordinator reads from the engine beyond what key ownership reads. */
export interface CoordinationSource extends OwnershipSource {
  readonly generation: number;
  joinState(): JoinState;
}

export interface SingletonSettings {
  /**
   * How long a server that becomes the owner while the previous owner is still a member (it
   * joined, came back, or a partition healed) waits before its first run: time for the
   * previous owner to learn of the change and stop. Taking over from an owner that left or was
   * declared offline is immediate.
   */
  handOverDelayMs: number;
  now: () => number;
  /** Whether this process's view may be trusted (default: joinState() is not `joining`). */
  joined?: () => boolean;
  log?: EngineLog;
  /**
   * Count suspects as present toward the quorum (the simpler rule). Off: see checkQuorum for
   * why; the simulator compares both (docs/coordination.md).
   * @default false
   */
  suspectsCountTowardQuorum?: boolean;
}

interface Tracked {
  quorum: QuorumOption;
  /** Not evaluated yet: a name this server has only just learnt of (see evaluate). */
  fresh: boolean;
  /** The owner at the last evaluation. */
  owner?: string;
  /** Whether this server had its quorum (and had joined) at the last evaluation. */
  hadQuorum: boolean;
  /** While this server holds the singleton: when it may run it. */
  readyAt?: number;
  lastRunAt?: number;
}

/** The singleton's key in the ownership space: `singleton:<name>`. */
export function singletonKey(name: string): string {
  return `singleton:${name}`;
}

/**
 * The cluster singleton's decision, free of any framework: for each fire, does this server run
 * the job? It does when it owns `singleton:<name>` (KeyOwnership), has joined, sees its quorum,
 * and is past any hand-over delay. Anchors: Akka's ClusterSingletonManager (hand-over on
 * membership change) and its keep-majority split-brain strategy; node-cron's run key.
 *
 * It follows membership events between fires, so that it knows who owned a singleton before a
 * change and can tell a take-over (the previous owner is gone: run at once) from a hand-over
 * (the previous owner is still a member and may not know yet: wait the hand-over delay).
 */
export class SingletonCoordinator {
  private readonly singletons = new Map<string, Tracked>();
  private readonly listeners = new Set<(transition: SingletonTransition) => void>();
  private readonly unsubscribe: (() => void)[];
  /** When the eligible set last changed, or this process last became joined: ownership in this view is stable since. */
  private unstableAt: number;
  private wasJoined = false;

  constructor(
    private readonly engine: CoordinationSource,
    private readonly ownership: KeyOwnership,
    private readonly settings: SingletonSettings,
  ) {
    this.unstableAt = settings.now();
    // registered after KeyOwnership's own listeners (it exists already), so it reads the updated table
    this.unsubscribe = [
      ownership.onChange(() => (this.unstableAt = this.settings.now())),
      engine.onChange(() => this.evaluateAll()),
      engine.onLifecycle(() => this.evaluateAll()),
    ];
  }

  /**
   * Makes a singleton known, so that hand-overs are followed between its fires and `status`
   * lists it. Throws a TypeError when the name is empty or already registered with another quorum.
   */
  register(name: string, quorum: QuorumOption = 'majority'): void {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('a singleton needs a non-empty name');
    const known = this.singletons.get(name);
    if (known) {
      if (known.quorum !== quorum) throw new TypeError(`singleton "${name}" is registered twice with different quorums (${String(known.quorum)} and ${String(quorum)}); give each job its own name`);
      return;
    }
    this.singletons.set(name, { quorum, fresh: true, hadQuorum: false });
    this.evaluate(name, this.singletons.get(name)!, this.settings.now());
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.singletons.has(name);
  }

  /** The quorum check as this server sees it now. */
  quorum(option: QuorumOption = 'majority', count: QuorumCount = countQuorum(this.engine.snapshot(false))): QuorumReport {
    if (this.settings.suspectsCountTowardQuorum) {
      const report = checkQuorum({ ...count, alive: count.alive + count.suspect, suspect: 0 }, option);
      return { ...report, alive: count.alive, suspect: count.suspect };
    }
    return checkQuorum(count, option);
  }

  /**
   * Decides whether this server runs `name` for the fire at `fireTime` (registering it if
   * needed) and, when it does, records the run.
   * @throws TypeError for an empty name, or a name registered with another quorum
   */
  decide(name: string, fireTime: number, quorum: QuorumOption = 'majority'): SingletonDecision {
    this.register(name, quorum);
    const tracked = this.singletons.get(name)!;
    const now = this.settings.now();
    const q = this.evaluate(name, tracked, now);
    const owner = tracked.owner;
    const viewId = this.ownership.viewId();
    const self = this.engine.settings.selfUrl;
    const skip = (reason: SkipReason, detail: string): SingletonDecision => ({ run: false, name, fireTime, reason, owner, viewId, detail });
    if (!this.joined()) return skip('not-joined', 'this process has not synced with the cluster yet');
    if (owner !== self) return skip('not-owner', owner ? `owned by ${owner}` : 'no eligible member');
    if (!q.ok) return skip('no-quorum', `${q.alive} of ${q.known} servers alive, ${q.needed} needed`);
    if (tracked.readyAt !== undefined && now < tracked.readyAt) return skip('hand-over', `hand-over: runs from ${new Date(tracked.readyAt).toISOString()} on`);
    tracked.lastRunAt = fireTime;
    return { run: true, fencing: { name, fireTime, runKey: `${name}@${fireTime}`, owner: self, generation: this.engine.generation, viewId } };
  }

  /** The singletons this server runs now (it holds them and any hand-over delay has passed). */
  owned(): string[] {
    const now = this.settings.now();
    const count = countQuorum(this.engine.snapshot(false));
    const out: string[] = [];
    for (const [name, tracked] of this.singletons) {
      this.evaluate(name, tracked, now, count);
      if (tracked.readyAt !== undefined && tracked.readyAt <= now) out.push(name);
    }
    return out;
  }

  /** The singletons this server holds: it owns them with quorum, including any still in their hand-over delay. */
  held(): string[] {
    this.evaluateAll();
    return [...this.singletons].filter(([, t]) => t.readyAt !== undefined).map(([name]) => name);
  }

  /** Every registered singleton, with its owner in this server's view. */
  states(): SingletonState[] {
    const owned = new Set(this.owned());
    return [...this.singletons].map(([name, t]) => ({
      name,
      quorum: t.quorum,
      ...(t.owner ? { owner: t.owner } : {}),
      running: owned.has(name),
      ...(t.lastRunAt !== undefined ? { lastRunAt: t.lastRunAt } : {}),
    }));
  }

  /**
   * The successors of the singletons this server holds: for each, the member that owns it once
   * this server is gone (the second of its preference list). A server that shuts down tells
   * them first, so the take-over does not wait for gossip.
   */
  successors(): string[] {
    const self = this.engine.settings.selfUrl;
    const out = new Set<string>();
    for (const [name, t] of this.singletons) {
      if (t.owner !== self) continue;
      const next = this.ownership.owners(singletonKey(name), 2)[1];
      if (next) out.add(next);
    }
    return [...out];
  }

  /** Called when this server starts or stops running a singleton. Returns an unsubscribe function. */
  onTransition(listener: (transition: SingletonTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.listeners.clear();
  }

  private joined(): boolean {
    const joined = this.settings.joined ? this.settings.joined() : this.engine.joinState() !== 'joining';
    // seen late rather than early: the hand-over delay then counts from a later time, never an earlier one
    if (joined !== this.wasJoined) {
      this.wasJoined = joined;
      this.unstableAt = this.settings.now();
    }
    return joined;
  }

  /** Re-reads the view and the join state (for a host that knows they may have changed without an event). */
  refresh(): void {
    this.evaluateAll();
  }

  private evaluateAll(): void {
    this.joined(); // notes when this process joined, even before any singleton is registered
    if (this.singletons.size === 0) return;
    const now = this.settings.now();
    const count = countQuorum(this.engine.snapshot(false));
    for (const [name, tracked] of this.singletons) this.evaluate(name, tracked, now, count);
  }

  /**
   * Brings one singleton's record up to date with the view: whether this server holds it now,
   * and, when it has just come to hold it, from when it may run it. Returns the quorum check.
   */
  private evaluate(name: string, tracked: Tracked, now: number, count?: QuorumCount): QuorumReport {
    const self = this.engine.settings.selfUrl;
    const owner = this.ownership.owner(singletonKey(name));
    const q = this.quorum(tracked.quorum, count);
    const haveQuorum = q.ok && this.joined();
    const holds = owner === self && haveQuorum;
    const previous = tracked.owner;
    if (!holds && tracked.readyAt !== undefined) {
      tracked.readyAt = undefined;
      const reason = owner !== self ? (owner ? `handed over to ${owner}` : 'no eligible member (this server is offline)') : !this.joined() ? 'this process has not joined' : `lost quorum (${q.alive} of ${q.known} alive, ${q.needed} needed)`;
      this.emit({ type: 'released', name, owner, previous, viewId: this.ownership.viewId(), reason });
    } else if (holds && tracked.readyAt === undefined) {
      // the previous owner is gone (left or declared offline) while we had quorum: nobody else can be running it
      const takeOver = tracked.hadQuorum && previous !== undefined && previous !== self && !this.ownership.isEligible(previous);
      // a name only just learnt of: if the view has not changed for the hand-over delay, every server that agrees knows this owner
      const settled = tracked.fresh && now >= this.unstableAt + this.settings.handOverDelayMs;
      tracked.readyAt = takeOver || settled ? now : tracked.fresh ? this.unstableAt + this.settings.handOverDelayMs : now + this.settings.handOverDelayMs;
      const reason = takeOver
        ? `took over from ${previous} (it is offline)`
        : settled
          ? `owner with quorum in a view unchanged for ${now - this.unstableAt} ms`
          : previous && previous !== self
          ? this.ownership.isEligible(previous)
            ? `became its owner while ${previous} is still a member: hand-over delay ${this.settings.handOverDelayMs} ms`
            : // not a take-over only because this server lacked quorum or had not joined when it went
              `became its owner after ${previous} went offline, seen without quorum or before joining (another server may have taken over): hand-over delay ${this.settings.handOverDelayMs} ms`
          : `owner with quorum (${q.alive} of ${q.known} alive): hand-over delay ${this.settings.handOverDelayMs} ms`;
      this.emit({ type: 'acquired', name, owner, previous, viewId: this.ownership.viewId(), reason, runsFrom: tracked.readyAt });
    }
    tracked.owner = owner;
    tracked.hadQuorum = haveQuorum;
    tracked.fresh = false;
    return q;
  }

  private emit(transition: SingletonTransition): void {
    notifyAll(this.listeners, [transition], 'singleton', this.settings.log);
  }
}
