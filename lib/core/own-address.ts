import { AddressConflictDetector, type AddressConflict } from './address-conflict.js';
import { errorText, type RateLimitedLog } from './engine-log.js';
import type { EngineSettings } from './engine-settings.js';
import { entriesOf, type MemberEntry } from './membership-view.js';
import type { Membership } from './membership.js';
import { classifyFailure, type GossipTransport } from './transport.js';

/**
 * What a probe of this server's own base URL found (see OwnAddress.selfCheck):
 * - `self`: it reached this very process;
 * - `other`: another process of the cluster answered there (another generation);
 * - `not-found`: something answered 404 (another route prefix, or not a cluster server);
 * - `unreachable`: refused, timed out, or failed otherwise (`reason` says how).
 */
export type SelfCheckResult = { result: 'self' } | { result: 'other'; generation?: number } | { result: 'not-found' } | { result: 'unreachable'; reason: string };

/** While yielded in an address conflict, the URL is probed this often to see whether it reaches this process again. */
const CONFLICT_RECHECK_MS = 30_000;
/**
 * This server probes its own base URL (does it reach this very process?): first this long
 * after start (a Nest app gossips from init, before it listens), then every minute, and every
 * few seconds while the answer is not this process.
 */
const SELF_CHECK_FIRST_MS = 2000;
const SELF_CHECK_EVERY_MS = 60_000;
const SELF_CHECK_RETRY_MS = 5000;

/** What the probes of this server's own base URL found so far (see OwnAddress.addressCheck). */
export interface AddressCheck {
  /** When the last check ended (ms, this engine's clock). */
  at: number;
  result: SelfCheckResult;
  /** How many checks in a row have not reached this process (0 after one that did). */
  failuresInARow: number;
  /**
   * Whether our own base URL answers the sync endpoint too (checked once per run, after the
   * first check that reached this process): `not-found` (404) means an app that mounts probe
   * but not sync, which peers take for a page-format server (sync falls back to full lists);
   * `unknown` before that check, or while it failed otherwise (retried at the next check).
   */
  syncEndpoint: SyncEndpointCheck;
}

/** What the once-per-run check of our own sync endpoint found (see AddressCheck.syncEndpoint). */
export type SyncEndpointCheck = 'ok' | 'not-found' | 'unknown';

/**
 * This server's own base URL: whether it reaches this very process (the self-check, on its
 * schedule), and two processes claiming it (an address conflict: detection through rivals'
 * words and self-checks, who keeps it, yielding, and taking it back). Serf resolves name
 * conflicts the same way: one process gives the name up, so the cluster settles.
 */
export class OwnAddress {
  private readonly conflicts: AddressConflictDetector;
  private lastConflictCheckAt = -Infinity;
  private lastSelfCheck?: AddressCheck;
  private startedAt = 0;
  private selfChecking = false;
  private syncEndpoint: SyncEndpointCheck = 'unknown';

  /**
   * @param deps.syncOnce one gossip round (a sync with one peer): what the cluster says of the
   *   process that holds our URL, when the URL itself reaches nobody
   */
  constructor(
    private readonly settings: Pick<EngineSettings, 'selfUrl' | 'probeTimeoutMs'>,
    private readonly membership: Membership,
    private readonly log: RateLimitedLog,
    private readonly deps: { now: () => number; transport: GossipTransport; syncOnce: () => Promise<unknown> },
  ) {
    this.conflicts = new AddressConflictDetector(settings.selfUrl);
    membership.onRival((entry) => this.noteRival(entry));
  }

  /** A run of this process starts: what a previous run found out about its address says nothing about this one. */
  started(now: number): void {
    this.startedAt = now;
    this.lastSelfCheck = undefined;
    this.syncEndpoint = 'unknown';
    this.conflicts.clear();
  }

  /** This process's generation (see Membership). */
  private get generation(): number {
    return this.membership.processGeneration;
  }

  /** Starts the scheduled self-check when it is due (2 s after start, then every minute, every 5 s after a failure). */
  checkIfDue(now: number): void {
    if (now >= this.nextSelfCheckAt()) void this.checkOwnAddress();
  }

  /**
   * Probes this server's own base URL: does it reach this very process? The answer carries the
   * answering process's own entry, whose generation tells it apart. Used at start (a base URL
   * that does not reach us is a misconfiguration) and to resolve address conflicts.
   */
  async selfCheck(timeoutMs = Math.max(this.settings.probeTimeoutMs * 2, 1000)): Promise<SelfCheckResult> {
    const url = this.settings.selfUrl;
    try {
      const ack = await this.deps.transport.probe(url, { message: 'probe', online: [], offline: [], selfCheck: this.generation }, timeoutMs);
      const own = entriesOf(ack).find((e) => e.baseUrl === url);
      return own?.generation === this.generation ? { result: 'self' } : { result: 'other', generation: own?.generation };
    } catch (error) {
      return classifyFailure(error) === 'not-found' ? { result: 'not-found' } : { result: 'unreachable', reason: errorText(error) };
    }
  }

  /** The address conflict this process is in, if any (see AddressConflict). */
  conflict(): AddressConflict | undefined {
    return this.conflicts.conflict;
  }

  /** What the last probe of our own base URL found, and when (see selfCheck); undefined before the first. */
  addressCheck(): AddressCheck | undefined {
    return this.lastSelfCheck && { ...this.lastSelfCheck };
  }

  private nextSelfCheckAt(): number {
    const last = this.lastSelfCheck;
    if (!last) return this.startedAt + SELF_CHECK_FIRST_MS;
    return last.at + (last.result.result === 'self' ? SELF_CHECK_EVERY_MS : SELF_CHECK_RETRY_MS);
  }

  private recordSelfCheck(result: SelfCheckResult): void {
    const failures = result.result === 'self' ? 0 : (this.lastSelfCheck?.failuresInARow ?? 0) + 1;
    this.lastSelfCheck = { at: this.deps.now(), result, failuresInARow: failures, syncEndpoint: this.syncEndpoint };
  }

  /**
   * Does our own base URL answer the sync endpoint too? Sent once the URL reached this very
   * process, so a 404 means the app lacks the endpoint (not another server). The message is
   * empty (no hash, digest, want, members or state): handleSync merges nothing and answers an
   * empty leg, so it changes nothing here. Any failure other than 404 says nothing (the probe
   * check covers reachability): `unknown`, tried again after the next check.
   */
  private async checkSyncEndpoint(): Promise<void> {
    if (this.syncEndpoint !== 'unknown') return;
    const run = this.startedAt;
    let found: SyncEndpointCheck;
    try {
      await this.deps.transport.sync(this.settings.selfUrl, { message: 'sync' });
      found = 'ok';
    } catch (error) {
      found = classifyFailure(error) === 'not-found' ? 'not-found' : 'unknown';
    }
    // a check from a previous run says nothing about this one
    if (run !== this.startedAt) return;
    this.syncEndpoint = found;
    if (this.lastSelfCheck) this.lastSelfCheck.syncEndpoint = found;
  }

  /**
   * Probes our own base URL (at start, then every minute, and whenever another process's word
   * about our URL arrives). When it reaches another process of the cluster, that one owns the
   * URL and this one gives it up at once.
   */
  private async checkOwnAddress(): Promise<void> {
    if (this.selfChecking) return;
    this.selfChecking = true;
    try {
      const result = await this.selfCheck();
      this.recordSelfCheck(result);
      if (result.result === 'self') await this.checkSyncEndpoint();
      if (result.result === 'other' && result.generation && !this.conflicts.conflict && this.membership.isRunning) {
        this.conflicts.declare(result.generation, this.generation, 'yielded', this.deps.now());
        this.yieldAddress();
      }
    } finally {
      this.selfChecking = false;
    }
  }

  private noteRival(entry: MemberEntry): void {
    this.conflicts.noteRivalWord(entry);
    // yielded: only listening; checkConflict decides whether the other process is gone
    if (this.membership.hasYielded) return;
    if (this.conflicts.noteRival(entry.generation!, this.generation, this.deps.now())) void this.resolveConflict();
    else if (!this.conflicts.conflict) void this.checkOwnAddress();
  }

  /**
   * A process of another generation checked whether our URL reaches it, and reached us: two
   * processes claim this URL, and since it reaches us, we keep it.
   */
  noteTwinCheck(generation: number): void {
    // a generation is a start stamp: one no process could have (malformed, from the future) says nothing
    if (!Number.isSafeInteger(generation) || generation <= 0 || !this.membership.clock.isAcceptable(generation)) return;
    const now = this.deps.now();
    if (this.conflicts.conflict) return this.conflicts.touch(generation, now);
    this.conflicts.declare(generation, this.generation, 'kept', now);
    this.log.warn(
      `address conflict: another process (generation ${generation}) also claims ${this.settings.selfUrl}; the URL reaches this process, which keeps it, and the other one gives it up. Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    );
  }

  private yieldAddress(): void {
    this.membership.yieldAddress();
    this.lastConflictCheckAt = this.deps.now();
    const conflict = this.conflicts.conflict!;
    this.log.warn(
      `address conflict: another process (generation ${conflict.rivalGeneration}) also claims ${this.settings.selfUrl}; this process gives it up and stops gossiping until the URL reaches it (the other one answers there, or started first). Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    );
  }

  /**
   * Decides who keeps the address: the process the URL reaches keeps it; when it reaches
   * neither (or something else), the younger one (the higher generation) gives it up. The
   * one that yields stops refuting, stamping and accusing, so the cluster settles on the
   * other's word; it takes the address back once the URL reaches it (the other one is gone).
   */
  private async resolveConflict(): Promise<void> {
    const check = await this.selfCheck();
    const conflict = this.conflicts.conflict;
    if (!conflict) return;
    this.recordSelfCheck(check);
    const keep = check.result === 'self' || (check.result !== 'other' && conflict.generation < conflict.rivalGeneration);
    this.conflicts.decide(keep ? 'kept' : 'yielded');
    if (!keep) return this.yieldAddress();
    this.log.warn(
      `address conflict: another process (generation ${conflict.rivalGeneration}) also claims ${this.settings.selfUrl}; this process keeps it (the URL reaches it, or it started first) and the other one should give it up. Give every server its own SHAZBOT_BASE_URL (option baseUrl).`,
    );
  }

  /**
   * While yielded (every CONFLICT_RECHECK_MS): take the address back once the URL reaches this
   * process, or once the cluster holds the other process offline (it failed, or left). When the
   * URL reaches no process at all, a sync with one peer brings what the cluster says of the
   * other one (this process holds no word of its own about the URL while yielded, so the sync
   * always brings the cluster's). While kept: end the conflict once the other is quiet.
   */
  async checkConflict(): Promise<void> {
    const conflict = this.conflicts.conflict;
    if (!conflict || !this.membership.isRunning) return;
    const now = this.deps.now();
    if (conflict.role === 'kept') return void this.conflicts.expireIfQuiet(now);
    if (conflict.role !== 'yielded' || now - this.lastConflictCheckAt < CONFLICT_RECHECK_MS) return;
    this.lastConflictCheckAt = now;
    const check = await this.selfCheck();
    this.recordSelfCheck(check);
    if (check.result === 'self') return this.reclaim(`${this.settings.selfUrl} reaches this process again`);
    // another process answers at the URL: it is alive, and keeps it
    if (check.result === 'other') return;
    await this.deps.syncOnce();
    const gone = this.conflicts.rivalGone();
    if (!gone || !this.membership.hasYielded) return;
    const rival = this.conflicts.conflict!.rivalGeneration;
    this.conflicts.noteTakenBack(gone, rival);
    this.reclaim(`the other process (generation ${rival}) ${gone === 'failed' ? 'was declared offline by the cluster' : 'left'}`);
  }

  /** Claims the address again, as a new generation (its keys follow: see StateReplication). */
  private reclaim(why: string): void {
    this.conflicts.clear();
    this.membership.reclaimAddress();
    this.log.warn(`address conflict over: ${why}; this process takes ${this.settings.selfUrl} back`);
  }
}
