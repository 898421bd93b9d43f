/**
 * The cluster singleton on the real engine in the simulator: every server runs the same job on
 * a schedule (a cron's fires, at the same instants everywhere, each server's timer a few ms
 * late), and the real KeyOwnership and SingletonCoordinator decide who runs each fire. Faults
 * as in the real-process tests (SIGKILL: connections refused; a partition: messages dropped),
 * many seeded trials. Each scenario returns what it counted, so a test can require zero
 * doubles and a bound on the take-over.
 */
import { KeyOwnership } from '../lib/core/key-ownership.js';
import type { QuorumOption } from '../lib/core/quorum.js';
import { SingletonCoordinator } from '../lib/core/singleton-coordinator.js';
import { SimTimeout, VirtualCluster, type SimNode } from './virtual-cluster.js';

const JOB = 'report';

export interface SingletonSimOptions {
  seed: number;
  size?: number;
  probeMs?: number;
  /** Period of the job's fires. */
  fireEveryMs?: number;
  quorum?: QuorumOption;
  /** Count suspects toward the quorum (the simpler rule; see checkQuorum). */
  suspectsCount?: boolean;
}

/** One server's coordination on its current engine. */
interface Attached {
  node: SimNode;
  ownership: KeyOwnership;
  coordinator: SingletonCoordinator;
}

/** A cluster of servers that all run the job; `runs` maps each fire time to the servers that ran it. */
class SingletonCluster {
  readonly cluster: VirtualCluster;
  readonly runs = new Map<number, string[]>();
  readonly probeMs: number;
  readonly fireEveryMs: number;
  private readonly attached = new Map<SimNode, Attached>();
  private firing = true;

  constructor(private readonly o: SingletonSimOptions) {
    this.probeMs = o.probeMs ?? 1000;
    this.fireEveryMs = o.fireEveryMs ?? 1000;
    this.cluster = new VirtualCluster({ size: o.size ?? 5, seed: o.seed, settings: { probeIntervalMs: this.probeMs }, gossipIntervalMs: 30_000 });
  }

  start(): void {
    this.cluster.startConverged();
    for (const node of this.cluster.nodes) this.attach(node);
    const first = Math.ceil(this.cluster.time / this.fireEveryMs) * this.fireEveryMs;
    this.cluster.queue.push(first, () => this.fire(first));
  }

  /** Coordination on a node's engine (again after a restart: a new process). */
  attach(node: SimNode): Attached {
    this.attached.get(node)?.coordinator.close();
    this.attached.get(node)?.ownership.close();
    const ownership = new KeyOwnership(node.engine);
    const coordinator = new SingletonCoordinator(node.engine, ownership, {
      handOverDelayMs: 2 * this.probeMs,
      now: () => Math.floor(this.cluster.time + node.skewMs),
      suspectsCountTowardQuorum: this.o.suspectsCount,
    });
    coordinator.register(JOB, this.o.quorum ?? 'majority');
    const a = { node, ownership, coordinator };
    this.attached.set(node, a);
    return a;
  }

  ownershipOf(node: SimNode): KeyOwnership {
    return this.attached.get(node)!.ownership;
  }

  /** One fire: every live server's timer goes off within 20 ms of the instant and decides. */
  private fire(at: number): void {
    if (!this.firing) return;
    for (const node of this.cluster.nodes) {
      if (node.crashed || node.hung) continue;
      const lag = 1 + this.cluster.random() * 19 + node.timerLagMs;
      this.cluster.queue.push(at + lag, () => {
        if (node.crashed || node.hung) return;
        const decision = this.attached.get(node)!.coordinator.decide(JOB, at, this.o.quorum ?? 'majority');
        if (decision.run) this.runs.set(at, [...(this.runs.get(at) ?? []), node.url]);
      });
    }
    this.cluster.queue.push(at + this.fireEveryMs, () => this.fire(at + this.fireEveryMs));
  }

  /** The server that ran the last `n` completed fires, alone each time (a settled owner), if there is one. */
  lastRunner(n = 1): SimNode | undefined {
    const fires = [...this.runs.keys()].sort((a, b) => a - b).slice(-n);
    const runners = fires.map((at) => this.runs.get(at) ?? []);
    if (fires.length < n || runners.some((r) => r.length !== 1 || r[0] !== runners[0][0])) return undefined;
    return this.cluster.byUrl.get(runners[0][0]);
  }

  /** Fires in [from, to) with the servers that ran each. */
  firesBetween(from: number, to: number): { at: number; runners: string[] }[] {
    const out: { at: number; runners: string[] }[] = [];
    const first = Math.ceil(from / this.fireEveryMs) * this.fireEveryMs;
    for (let at = first; at < to; at += this.fireEveryMs) out.push({ at, runners: this.runs.get(at) ?? [] });
    return out;
  }

  /** Whether every listed server has the same eligible set and the same owners for `keys`. */
  agree(nodes: SimNode[], keys: string[]): boolean {
    const views = nodes.map((n) => this.ownershipOf(n));
    const id = views[0].viewId();
    if (views.some((v) => v.viewId() !== id)) return false;
    return keys.every((k) => {
      const owner = views[0].owner(k);
      return views.every((v) => v.owner(k) === owner);
    });
  }
}

export interface SigkillTrial {
  /** Fires with more than one run, over the whole trial. */
  doubles: number;
  /** Fires from the kill on that nobody ran, until the first run on the new owner. */
  missedAfterKill: number;
  /** From the kill to the first run on another server, ms (Infinity: no other server ran it within the trial). */
  takeOverMs: number;
  /** From the kill until every survivor saw the victim offline, ms. */
  detectionMs: number;
  /** From the kill until every survivor agreed on the owners of 1,000 sample keys, ms. */
  agreementMs: number;
  /** Fires after the take-over that were not run exactly once. */
  notExactlyOnceAfter: number;
  /** The stated bound on detection of a killed process, 2 + ceil(log2 N) probe intervals, ms. */
  detectionBoundMs: number;
}

const SAMPLE_KEYS = Array.from({ length: 1000 }, (_, i) => `key-${i}`);

/**
 * The owner of the job is killed (its port refuses connections, as after SIGKILL) once the
 * cluster has run the job for a while; the trial goes on for 30 more fires.
 */
export async function sigkillOwner(o: SingletonSimOptions): Promise<SigkillTrial> {
  const s = new SingletonCluster(o);
  const c = s.cluster;
  s.start();
  await c.runFor(10 * s.fireEveryMs + 5 * s.probeMs);
  // kill the settled owner: the one that ran the last three fires (not one a hand-over is replacing)
  for (let waited = 0; !s.lastRunner(3) && waited < 30; waited++) await c.runFor(s.fireEveryMs);
  const victim = s.lastRunner(3);
  if (!victim) throw new Error(`seed ${o.seed}: no single owner ran the job before the kill`);
  const killedAt = c.time;
  c.crash(victim);
  const survivors = c.nodes.filter((n) => n !== victim);
  let detectedAt = -1;
  let agreedAt = -1;
  const limit = killedAt + 60_000;
  while (c.time < limit && (detectedAt < 0 || agreedAt < 0)) {
    await c.runFor(50);
    if (detectedAt < 0 && survivors.every((n) => n.engine.member(victim.url)?.online === false)) detectedAt = c.time;
    if (agreedAt < 0 && survivors.every((n) => !s.ownershipOf(n).isEligible(victim.url)) && s.agree(survivors, SAMPLE_KEYS)) agreedAt = c.time;
  }
  if (detectedAt < 0) throw new SimTimeout(`seed ${o.seed}: every survivor seeing the killed owner offline`, 60_000);
  if (agreedAt < 0) throw new SimTimeout(`seed ${o.seed}: the survivors agreeing on the owners of the sample keys`, 60_000);
  await c.runUntil(killedAt + 30 * s.fireEveryMs);
  const after = s.firesBetween(killedAt, c.time - s.fireEveryMs);
  // the first fire run by another server (a fire at the kill's very moment may still be the victim's)
  const firstRun = after.find((f) => f.runners.some((r) => r !== victim.url));
  const all = s.firesBetween(killedAt - 10 * s.fireEveryMs, c.time - s.fireEveryMs);
  const size = o.size ?? 5;
  return {
    doubles: all.filter((f) => f.runners.length > 1).length,
    missedAfterKill: firstRun ? after.indexOf(firstRun) : after.length,
    takeOverMs: firstRun ? firstRun.at - killedAt : Infinity,
    detectionMs: detectedAt - killedAt,
    agreementMs: agreedAt - killedAt,
    notExactlyOnceAfter: firstRun ? after.slice(after.indexOf(firstRun)).filter((f) => f.runners.length !== 1).length : after.length,
    detectionBoundMs: (2 + Math.ceil(Math.log2(size))) * s.probeMs,
  };
}

export interface PartitionTrial {
  /** Fires with more than one run, from the split to the end. */
  doubles: number;
  /** Runs on the minority side once both sides had declared the other offline. */
  minorityRunsSettled: number;
  /** Fires while split and settled that the majority did not run exactly once. */
  majorityNotOnceSettled: number;
  /** Fires once healed and converged that were not run exactly once. */
  notOnceHealed: number;
  /** Fires settled (split) and healed that were observed. */
  settledFires: number;
  healedFires: number;
}

/**
 * A 3|2 split (messages between the sides dropped: nothing is refused, so only suspicion
 * detects it) with the job's owner on the minority side, 30 fires apart, then healed.
 */
export async function partition(o: SingletonSimOptions): Promise<PartitionTrial> {
  const s = new SingletonCluster(o);
  const c = s.cluster;
  s.start();
  await c.runFor(10 * s.fireEveryMs + 5 * s.probeMs);
  const owner = s.lastRunner();
  if (!owner) throw new Error(`seed ${o.seed}: no single owner before the split`);
  // the owner and one other server form the minority
  const minority = [owner, c.nodes.find((n) => n !== owner)!];
  const majority = c.nodes.filter((n) => !minority.includes(n));
  const splitAt = c.time;
  c.partition((n) => (minority.includes(n) ? 1 : 0));
  const sawOffline = (observers: SimNode[], others: SimNode[]) => observers.every((a) => others.every((b) => a.engine.member(b.url)?.online === false));
  await c.timeUntil(() => sawOffline(minority, majority) && sawOffline(majority, minority), 120_000, 100, `seed ${o.seed}: the sides declaring each other offline`);
  const settledAt = c.time;
  await c.runFor(30 * s.fireEveryMs);
  const healAt = c.time;
  c.heal();
  await c.timeUntil(() => c.nodes.every((n) => c.nodes.every((m) => n.engine.member(m.url)?.online === true && !n.engine.member(m.url)?.suspect)) && s.agree(c.nodes, ['x']), 300_000, 100, `seed ${o.seed}: the partition healing`);
  const convergedAt = c.time + 2 * s.probeMs + s.fireEveryMs;
  await c.runUntil(convergedAt + 20 * s.fireEveryMs);
  const settledFires = s.firesBetween(settledAt + s.fireEveryMs, healAt);
  const healedFires = s.firesBetween(convergedAt, c.time - s.fireEveryMs);
  const minorityUrls = new Set(minority.map((n) => n.url));
  return {
    doubles: s.firesBetween(splitAt, c.time - s.fireEveryMs).filter((f) => f.runners.length > 1).length,
    minorityRunsSettled: settledFires.reduce((sum, f) => sum + f.runners.filter((u) => minorityUrls.has(u)).length, 0),
    majorityNotOnceSettled: settledFires.filter((f) => f.runners.filter((u) => !minorityUrls.has(u)).length !== 1).length,
    notOnceHealed: healedFires.filter((f) => f.runners.length !== 1).length,
    settledFires: settledFires.length,
    healedFires: healedFires.length,
  };
}

export interface RestartTrial {
  doubles: number;
  /** Fires from the restart until it converged that nobody ran. */
  missed: number;
}

/** The owner is killed, then restarted at its URL (a new process) once the others took over: it wins the job back by a hand-over. */
export async function killAndRestart(o: SingletonSimOptions): Promise<RestartTrial> {
  const s = new SingletonCluster(o);
  const c = s.cluster;
  s.start();
  await c.runFor(10 * s.fireEveryMs + 5 * s.probeMs);
  const victim = s.lastRunner();
  if (!victim) throw new Error(`seed ${o.seed}: no single owner before the kill`);
  const from = c.time;
  c.crash(victim);
  await c.runFor(15 * s.fireEveryMs);
  c.restart(victim, c.nodes.find((n) => n !== victim)!.url);
  s.attach(victim);
  const restartedAt = c.time;
  await c.runFor(30 * s.fireEveryMs);
  const after = s.firesBetween(restartedAt, c.time - s.fireEveryMs);
  return {
    doubles: s.firesBetween(from, c.time - s.fireEveryMs).filter((f) => f.runners.length > 1).length,
    missed: after.filter((f) => f.runners.length === 0).length,
  };
}
