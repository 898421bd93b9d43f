import type { Awareness } from './awareness.js';
import type { DetectorSettings } from './engine-settings.js';
import { stateOf, type MemberEntry } from './membership-view.js';
import type { Membership } from './membership.js';
import type { PeerBook } from './peer-book.js';
import { shuffle } from './peer-selection.js';
import { suspicionTimeoutMs } from './suspicion.js';
import { classifyFailure } from './transport.js';
import type { ProbeAck } from './types.js';

type FailureDetectorSettings = DetectorSettings & { selfUrl: string; offlineProbeProbability: number };

/** How one probe attempt ended. */
export type ProbeResult = 'ack' | 'refused' | 'silent';

export type ProbeOutcome =
  | { kind: 'idle' }
  | { kind: 'alive'; target: string; via: 'direct' | 'indirect' | 'retry' }
  | { kind: 'suspected'; target: string }
  /** Every probe of the target, ours and the helpers', was refused: declared offline at once. */
  | { kind: 'refused'; target: string }
  | { kind: 'withheld'; target: string }
  /** Refused everywhere, but a process we learnt of less than the minimum suspicion timeout ago: it may not listen yet. */
  | { kind: 'starting'; target: string }
  | { kind: 'reconnected' | 'unreachable'; target: string };

/**
 * Sends one probe to `peer` (an indirect one when `target` is given) within `timeoutMs` and
 * merges what its ack carries; the engine builds the message and its piggyback.
 */
export type SendProbe = (peer: string, target: string | undefined, timeoutMs: number) => Promise<ProbeAck>;

/** The page's gossip exchange with `peer` within `timeoutMs`: true when a signed answer came (and was merged). */
export type GossipCheck = (peer: string, timeoutMs: number) => Promise<boolean>;

/**
 * SWIM's failure detector with Lifeguard's refinements (Das, Gupta and Motivala, DSN 2002;
 * Dadgar et al., 2018; hashicorp/memberlist state.go `probe`, `probeNode`): one member probed
 * per interval, round-robin over a shuffled list; indirect probes through `indirectChecks`
 * helpers and a second direct probe when the first goes unanswered; a suspicion when nobody got
 * an answer, expiring after Lifeguard's timeout; and our refusal step (an established member
 * whose port refused everyone is offline at once). Verdicts go through Membership; timeouts
 * scale with Awareness.
 */
export class FailureDetector {
  /** This round-robin cycle's probe targets (shuffled) and the next one's index; also the pool indirect helpers are drawn from. */
  private probeOrder: string[] = [];
  private probeIndex = 0;
  readonly stats = {
    /** Probes this server sent (direct), and how many went unanswered. */
    probesSent: 0,
    probesFailed: 0,
    /** Members this server declared suspect, and offline (its own suspicion expired). */
    suspicionsRaised: 0,
    declaredOffline: 0,
    /** Of `declaredOffline`: members declared at once because every probe of them was refused. */
    refusalsConfirmed: 0,
    /** Accusations skipped because this server's own timers ran late (local health). */
    accusationsWithheld: 0,
  };

  constructor(
    private readonly settings: FailureDetectorSettings,
    private readonly membership: Membership,
    private readonly awareness: Awareness,
    private readonly peers: PeerBook,
    private readonly deps: { now: () => number; random: () => number; send: SendProbe; gossipCheck: GossipCheck },
  ) {}

  /** Marks the start of a probe tick: a late tick means our own sense of time was wrong (see Awareness). */
  beginTick(now: number): void {
    if (this.awareness.tickStarted(now, this.settings.probeIntervalMs, this.settings.probeTimeoutMs)) this.membership.restartSuspicions(now);
  }

  /**
   * One probe interval: expire suspicions, then probe one member, falling back to indirect
   * probes, and suspect it when nobody got an answer. With probability
   * `offlineProbeProbability` (always, while no online peer is known) an offline server or
   * seed is probed instead: `reconnected` tells the caller to sync with it (this is how
   * partitions heal and cold starts join). Accusations are withheld while this server's own
   * timers run late (local health).
   */
  async probe(now: number): Promise<ProbeOutcome> {
    const { probeIntervalMs, probeTimeoutMs } = this.settings;
    this.expireSuspicions(now);

    // alone (nothing online but us): try a seed or offline server every tick, so a cold start
    // joins as soon as the seed answers instead of at the next full exchange
    const reserve = !this.knowsOnlinePeer() || this.deps.random() < this.settings.offlineProbeProbability ? this.reserve() : [];
    if (reserve.length) {
      const target = reserve[Math.floor(this.deps.random() * reserve.length)];
      if ((await this.probeDirect(target)) !== 'ack') return { kind: 'unreachable', target };
      return { kind: 'reconnected', target };
    }
    const target = this.nextProbeTarget();
    if (!target) return { kind: 'idle' };
    const sentAt = this.deps.now();
    const direct = await this.probeDirect(target);
    if (direct === 'ack') {
      this.awareness.lower();
      return { kind: 'alive', target, via: 'direct' };
    }
    // indirect probes, and in parallel a second direct probe with the same deadline (memberlist's
    // fallback ping): under independent loss this cuts false suspicions about fivefold, and every
    // suspicion avoided is two changes fewer for the whole cluster to carry
    const [indirect, retry] = await Promise.all([this.probeIndirect(target), this.probeDirect(target, false, this.indirectTimeoutMs())]);
    if (indirect.acked || retry === 'ack') {
      // the target is fine, so the lost ack may be our fault: Lifeguard raises our own score
      this.awareness.raise();
      return { kind: 'alive', target, via: indirect.acked ? 'indirect' : 'retry' };
    }
    const finishedAt = this.deps.now();
    const expected = this.awareness.scale(probeTimeoutMs) + this.indirectTimeoutMs();
    if (finishedAt - sentAt > expected + probeIntervalMs || this.awareness.isQuiet(finishedAt) || !this.membership.isRunning) {
      if (finishedAt - sentAt > expected + probeIntervalMs) this.degrade(finishedAt);
      this.stats.accusationsWithheld++;
      return { kind: 'withheld', target };
    }
    const entry = this.membership.get(target);
    const state = entry && stateOf(entry);
    // Refused by us twice and by every helper (at least one): no process listens on that port,
    // which a slow or lossy path never causes (it times out), so a suspicion would only wait for
    // a refutation that cannot come. Only for an established member (the process we knew is
    // gone; a new one may not listen yet), not for a flapping one (its damping stands), nor
    // while our own health is degraded (our view of the network may be wrong).
    const refusedEverywhere = direct === 'refused' && retry === 'refused' && indirect.asked > 0 && indirect.refused === indirect.asked;
    if (
      refusedEverywhere &&
      this.settings.fastFailOnRefusal &&
      entry &&
      this.establishedMember(entry, finishedAt) &&
      (state === 'alive' || state === 'suspect') &&
      this.awareness.score === 0 &&
      this.membership.flapFactor(target, finishedAt) === 1
    ) {
      this.stats.declaredOffline++;
      this.stats.refusalsConfirmed++;
      this.membership.declare(entry, 'offline', finishedAt);
      return { kind: 'refused', target };
    }
    // a process we learnt of only just now (a new member, or a restart at the same URL) that
    // refuses everyone: it gossips before it listens (a Nest app does so from init); a
    // refusal is no sign of trouble yet, and a suspicion might outlast its start
    if (refusedEverywhere && entry && !this.establishedMember(entry, finishedAt)) return { kind: 'starting', target };
    // a fresh suspicion, or our independent confirmation of someone else's (it shortens the timeout everywhere)
    if (entry && (state === 'alive' || (state === 'suspect' && !this.membership.suspicion(target)?.confirmers.has(this.settings.selfUrl)))) {
      this.stats.suspicionsRaised++;
      this.membership.declare(entry, 'suspect', finishedAt);
    }
    return { kind: 'suspected', target };
  }

  /** An indirect probe asked of us: probe `target` once for the sender (not counted as ours). */
  probeFor(target: string): Promise<ProbeResult> {
    return this.probeDirect(target, false);
  }

  /**
   * Up to `count` distinct random alive peers other than `exclude` (and page-format peers).
   * Drawn from the probe cycle's pool, so a probe costs O(count) rather than a walk of the whole
   * view (at 10,000 servers that walk was most of a probe's cost); falls back to the walk when
   * sampling comes up short.
   */
  helpers(exclude: string, count: number): string[] {
    const usable = (url: string) => {
      const e = this.membership.get(url);
      return !!e && stateOf(e) === 'alive' && url !== exclude && url !== this.settings.selfUrl && !this.peers.isPageFormat(url);
    };
    const pool = this.probeOrder;
    const chosen = new Set<string>();
    for (let tries = 0; chosen.size < count && tries < count * 8 && pool.length > count * 4; tries++) {
      const url = pool[Math.floor(this.deps.random() * pool.length)];
      if (usable(url)) chosen.add(url);
    }
    if (chosen.size === count) return [...chosen];
    const all = [...this.membership.keys()].filter(usable);
    shuffle(all, this.deps.random);
    return all.slice(0, count);
  }

  private async probeDirect(target: string, count = true, timeout = this.awareness.scale(this.settings.probeTimeoutMs)): Promise<ProbeResult> {
    if (count) this.stats.probesSent++;
    if (this.peers.isPageFormat(target)) return this.checkByGossip(target, timeout, count);
    try {
      const ack = await this.deps.send(target, undefined, timeout);
      if (ack.ack !== true) return 'silent';
      this.peers.noteAnswered(target);
      this.peers.noteEndpointsFound(target);
      return 'ack';
    } catch (error) {
      const kind = classifyFailure(error);
      // no probe endpoint there. A 404 is never signed: any web server on a dead member's port
      // would give it. A peer with only the page's endpoints proves it is alive by a signed
      // answer to the page's gossip instead.
      if (kind === 'not-found') {
        this.peers.markPageFormat(target);
        return this.checkByGossip(target, timeout, count);
      }
      if (kind === 'foreign') this.peers.markForeign(target);
      if (kind === 'unauthorized') this.peers.noteUnauthorized(target, this.deps.now());
      if (count) this.stats.probesFailed++;
      return kind === 'refused' ? 'refused' : 'silent';
    }
  }

  /** A page-format peer's probe: the page's gossip exchange, alive when its answer is signed. */
  private async checkByGossip(target: string, timeout: number, count: boolean): Promise<ProbeResult> {
    if (await this.deps.gossipCheck(target, timeout)) return 'ack';
    if (count) this.stats.probesFailed++;
    return 'silent';
  }

  /** The deadline of the second attempt (indirect probes and the repeated direct one): it covers two hops. */
  private indirectTimeoutMs(): number {
    return this.awareness.scale(this.settings.probeTimeoutMs, 2);
  }

  /** Asks up to `indirectChecks` helpers to probe `target`: did any get an ack, and how many found its port refusing? */
  private async probeIndirect(target: string): Promise<{ acked: boolean; asked: number; refused: number }> {
    const chosen = this.helpers(target, this.settings.indirectChecks);
    if (chosen.length === 0) return { acked: false, asked: 0, refused: 0 };
    const timeout = this.indirectTimeoutMs();
    const answers = await Promise.all(
      chosen.map(async (helper): Promise<ProbeResult> => {
        try {
          const ack = await this.deps.send(helper, target, timeout);
          return ack.ack === true ? 'ack' : ack.refused === true ? 'refused' : 'silent';
        } catch {
          return 'silent';
        }
      }),
    );
    return { acked: answers.includes('ack'), asked: chosen.length, refused: answers.filter((a) => a === 'refused').length };
  }

  /**
   * A member whose refusal means death: its current process (generation) answered one of our
   * probes, or we have known that process longer than the minimum suspicion timeout, the time
   * a new server would have had to start listening anyway. Measured on our own clock from when
   * we learnt of the process, so a restarted server gets the grace a new one gets.
   */
  private establishedMember(entry: MemberEntry, now: number): boolean {
    if (this.peers.hasAnswered(entry.baseUrl)) return true;
    const { suspicionMult, suspicionMaxMult, probeIntervalMs } = this.settings;
    const minimum = suspicionTimeoutMs({ clusterSize: this.membership.size, confirmations: 0, probeIntervalMs, suspicionMult, suspicionMaxMult, expectedConfirmations: 0 });
    return now - (this.peers.knownSince(entry.baseUrl) ?? -Infinity) > minimum;
  }

  private expireSuspicions(now: number): void {
    if (this.awareness.isQuiet(now)) return;
    for (const [url, suspicion, entry] of this.membership.suspicions()) {
      const timeout =
        suspicionTimeoutMs({
          clusterSize: this.membership.size,
          confirmations: suspicion.confirmers.size - 1,
          probeIntervalMs: this.settings.probeIntervalMs,
          suspicionMult: this.settings.suspicionMult,
          suspicionMaxMult: this.settings.suspicionMaxMult,
          // as memberlist: when too few others exist to confirm, don't wait for confirmations
          expectedConfirmations: this.membership.size - 2 < this.settings.indirectChecks ? 0 : this.settings.indirectChecks,
        }) * this.membership.flapFactor(url, now);
      if (now - suspicion.startedAt < timeout) continue;
      this.stats.declaredOffline++;
      this.membership.declare(entry, 'offline', now);
    }
  }

  /** Our sense of time was wrong (paused, starved): raise the local health score, accuse nobody for a while. */
  private degrade(now: number): void {
    this.awareness.degrade(now);
    this.membership.restartSuspicions(now);
  }

  private nextProbeTarget(): string | undefined {
    for (let rebuilt = false; ; rebuilt = true) {
      while (this.probeIndex < this.probeOrder.length) {
        const url = this.probeOrder[this.probeIndex++];
        const entry = this.membership.get(url);
        if (entry?.online && url !== this.settings.selfUrl) return url;
      }
      if (rebuilt) return undefined;
      this.probeOrder = [...this.membership.values()].filter((e) => e.online && e.baseUrl !== this.settings.selfUrl).map((e) => e.baseUrl);
      shuffle(this.probeOrder, this.deps.random);
      this.probeIndex = 0;
    }
  }

  private knowsOnlinePeer(): boolean {
    for (const e of this.membership.values()) if (e.online && e.baseUrl !== this.settings.selfUrl) return true;
    return false;
  }

  /** Offline servers and seeds not in the view: where reconnect probes go. */
  private reserve(): string[] {
    const out: string[] = [];
    for (const e of this.membership.values()) if (!e.online && e.baseUrl !== this.settings.selfUrl) out.push(e.baseUrl);
    for (const seed of this.peers.seeds) if (!this.membership.get(seed)) out.push(seed);
    return out;
  }
}
