import type { Dissemination } from './dissemination.js';
import { errorText, notifyAll, type RateLimitedLog } from './engine-log.js';
import { escapeForLog, quoteForLog } from './log-text.js';
import type { StateLimits } from './engine-settings.js';
import type { Membership } from './membership.js';
import { ReplicatedState, type JsonValue, type StateChange, type StateDelta } from './replicated-state.js';

/**
 * Key/value replication wired to membership: ReplicatedState holds the data and its rules; this
 * unit decides what to do with it. Local writes and learned deltas are queued for piggybacking,
 * deltas are accepted only about servers in the view, a claim about this server that it does
 * not hold starts a new generation (a refutation, as for membership), state of a removed
 * server is dropped, and listeners hear every change.
 */
export class StateReplication {
  private readonly state: ReplicatedState;
  private readonly listeners = new Set<(change: StateChange) => void>();
  readonly stats = {
    /** Incoming deltas refused (limits, malformed, stamped too far ahead). */
    entriesRefused: 0,
    /** Times this server started a new generation of its key/value state (a peer held stale state about it). */
    stateRefutations: 0,
  };

  constructor(
    private readonly selfUrl: string,
    limits: StateLimits,
    private readonly membership: Membership,
    private readonly dissemination: Dissemination,
    private readonly deps: { now: () => number; log: RateLimitedLog },
  ) {
    const clock = membership.clock;
    this.state = new ReplicatedState(selfUrl, limits, {
      now: deps.now,
      tick: () => clock.tick(),
      acceptable: (version) => clock.isAcceptable(version),
      digest: membership.digest,
    });
    membership.onRemoved((url) => this.state.drop(url));
    // a new generation of this process (a start, the address taken back): our keys follow it
    membership.onGeneration((generation) => {
      const reset = this.state.startGeneration(generation);
      if (reset) this.dissemination.queueState(reset);
    });
    // a restarted server is a new process: its predecessor's keys go, whatever their versions
    membership.onNewProcess((url) => this.emit(this.state.newGeneration(url, membership.get(url)?.generation)));
  }

  /** A live value of a server's key (this server's included), or undefined. */
  get(server: string, key: string): JsonValue | undefined {
    return this.state.get(server, key);
  }

  /** One server's live keys. */
  entriesOf(server: string): Record<string, JsonValue> {
    return this.state.entriesOf(server);
  }

  /** Every server's live keys, by base URL (servers without keys are left out). */
  snapshot(): Record<string, Record<string, JsonValue>> {
    return this.state.snapshot();
  }

  /** The watermark of a server's state as held here (0 when none): the state version of digests. */
  knownVersion(server: string): number {
    return this.state.knownVersion(server);
  }

  /** What a peer whose watermark for `server` is `theirKnown` lacks, within `budgetBytes` (see ReplicatedState.deltaFor). */
  deltaFor(server: string, theirKnown: number, budgetBytes: number): StateDelta | null {
    return this.state.deltaFor(server, theirKnown, budgetBytes);
  }

  /** A queued delta as it should travel now: see ReplicatedState.withTimeLeft. */
  withTimeLeft(delta: StateDelta): StateDelta {
    return this.state.withTimeLeft(delta);
  }

  /** Key/value changes (this server's and its peers'), as they are made or learned. */
  onChange(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets a key of this server's state; it spreads with the next probes. Throws StateValueError on bad input. */
  setLocal(key: string, value: JsonValue, expiresAt?: number): void {
    const { delta, change } = this.state.setLocal(key, value, expiresAt);
    this.dissemination.queueState(delta);
    this.emit([change]);
  }

  /** Deletes a key of this server's state. False when it was not set. */
  deleteLocal(key: string): boolean {
    const done = this.state.deleteLocal(key);
    if (!done) return false;
    this.dissemination.queueState(done.delta);
    this.emit([done.change]);
    return true;
  }

  /**
   * Applies key/value deltas from a peer: only about servers in the view (members first),
   * never about this server (a claim newer than what it holds starts a new generation).
   */
  merge(deltas: StateDelta[], source: string): StateChange[] {
    const changes: StateChange[] = [];
    let refute = false;
    let claimed = 0;
    for (const delta of deltas) {
      if (!delta || typeof delta.server !== 'string') continue;
      if (delta.server !== this.selfUrl && !this.membership.get(delta.server)) continue;
      try {
        const result = this.state.apply(delta, (generation) => this.welcome(delta.server, generation));
        if (result.aboutSelfUnknown) {
          refute = true;
          claimed = Math.max(claimed, delta.to, delta.floor ?? 0);
        }
        if (result.news) this.dissemination.queueState(delta);
        changes.push(...result.changes);
      } catch (error) {
        this.stats.entriesRefused++;
        // a peer with other limits would repeat this every round: a few lines a minute are enough
        this.deps.log.warnEvery('state-refused', () => `refused key/value state of ${quoteForLog(delta.server)} from ${escapeForLog(source)}: ${escapeForLog(errorText(error))} (do all servers use the same state limits?)`);
      }
    }
    if (refute && this.membership.isRunning && !this.membership.hasYielded) {
      this.stats.stateRefutations++;
      // our fresh versions must be above the ones a previous process at our URL issued
      this.membership.clock.observe(claimed);
      this.dissemination.queueState(this.state.refuteOwn());
    }
    this.emit(changes);
    return changes;
  }

  /**
   * Keys of a process are held when the view knows that process at the URL; or when they come
   * from a newer process than one the view holds offline (a restart whose keys arrive before its
   * membership entry does). A URL whose process is alive or merely suspect never takes another's
   * keys: a predecessor's arrive late, and a twin's (two processes, one URL) must not hide the
   * owner's; a suspect may refute, and once a restart is real its entry arrives (onNewProcess).
   */
  private welcome(server: string, generation: number): boolean {
    const entry = this.membership.get(server);
    if (!entry?.generation || entry.generation === generation) return true;
    return generation > entry.generation && !entry.online;
  }

  /**
   * Queues this server's whole state afresh (a reset listing every key). Called once, after the
   * first sync of a process gave it the view: what it wrote before it knew anyone has used up
   * its transmissions on the one seed it knew, and a restarted server's keys must replace its
   * predecessor's everywhere.
   */
  announceOwn(): void {
    const own = this.state.deltaFor(this.selfUrl, 0, Infinity);
    if (own) this.dissemination.queueState(own);
  }

  /** Expires keys whose time has come; this server's own expiries become tombstones to spread. */
  expire(): void {
    const expired = this.state.expire();
    for (const delta of expired.deltas) this.dissemination.queueState(delta);
    this.emit(expired.changes);
  }

  private emit(changes: StateChange[]): void {
    notifyAll(this.listeners, changes, 'state', this.deps.log);
  }
}
