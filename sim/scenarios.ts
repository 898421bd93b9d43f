/**
 * Measurements on the virtual cluster. Every figure is in probe intervals (machine-independent)
 * or bytes; each scenario builds its own seeded cluster, so results are reproducible.
 */
import type { EngineSettings } from '../lib/core/engine-settings.js';
import { VirtualCluster, type SimNode } from './virtual-cluster.js';

export interface ScenarioOptions {
  size: number;
  seed: number;
  settings?: Partial<EngineSettings>;
  lossRate?: number;
  gossipIntervalMs?: number;
}

const PROBE_MS = 1000;
/** A few intervals of steady state first (the converged start queues nothing to piggyback). */
const WARM_UP_MS = 15 * PROBE_MS;

function cluster(o: ScenarioOptions): VirtualCluster {
  return new VirtualCluster({ size: o.size, seed: o.seed, settings: { probeIntervalMs: PROBE_MS, ...o.settings }, lossRate: o.lossRate, gossipIntervalMs: o.gossipIntervalMs });
}

function pickVictim(c: VirtualCluster): SimNode {
  return c.nodes[1 + Math.floor(c.random() * (c.nodes.length - 1))];
}

/** Probe intervals until a change made on one server (it takes itself offline) is seen by all. */
export async function disseminationRounds(o: ScenarioOptions): Promise<number> {
  const c = cluster(o);
  c.startConverged();
  await c.runFor(WARM_UP_MS);
  const source = pickVictim(c);
  source.engine.setOnline(false);
  const ms = await c.timeUntil(() => c.seenBy(source.url, (e) => e?.online === false) === c.nodes.length - 1, 600 * PROBE_MS, PROBE_MS / 10, 'a change on every server');
  return ms / PROBE_MS;
}

export interface DetectionResult {
  /** Probe intervals from the crash until the first live server shows it offline, and until all do. */
  first: number;
  all: number;
  falseOfflines: number;
}

/**
 * Crash (SIGKILL: connections refused), lose the host (nothing answers: connections time out)
 * or hang (SIGSTOP: accepted, never answered) one server; time to offline everywhere.
 */
export async function detection(o: ScenarioOptions & { fault: 'crash' | 'host-lost' | 'hang' }): Promise<DetectionResult> {
  const c = cluster(o);
  c.startConverged();
  // every server stamped itself at the start: run past the minimum suspicion timeout, so the
  // victim is an established member (a server killed sooner goes through a suspicion; step 3)
  await c.runFor(Math.max(WARM_UP_MS, (4 * Math.max(1, Math.log10(o.size)) + 2) * PROBE_MS));
  const victim = pickVictim(c);
  if (o.fault === 'hang') victim.hung = true;
  else c.crash(victim, o.fault === 'host-lost');
  const live = c.live();
  const start = c.time;
  let first = -1;
  const all = await c.timeUntil(
    () => {
      const seen = c.seenBy(victim.url, (e) => e?.online === false, live);
      if (seen > 0 && first < 0) first = c.time - start;
      return seen === live.length;
    },
    600 * PROBE_MS,
    PROBE_MS / 10,
    `${o.fault}: the victim offline on every live server`,
  );
  return { first: first / PROBE_MS, all: all / PROBE_MS, falseOfflines: c.falseOfflines };
}

/** A hung server resumes (SIGCONT): probe intervals until all see it online again; and whom it wrongly accused. */
export async function hangAndResume(o: ScenarioOptions & { hangMs: number }): Promise<{ backOnlineAfter: number; falseOfflines: number }> {
  const c = cluster(o);
  c.startConverged();
  await c.runFor(WARM_UP_MS);
  const victim = pickVictim(c);
  victim.hung = true;
  await c.runFor(o.hangMs);
  const falseBefore = c.falseOfflines;
  victim.hung = false;
  const ms = await c.timeUntil(() => c.seenBy(victim.url, (e) => e?.online === true && !e.suspect) === c.nodes.length - 1, 120 * PROBE_MS, PROBE_MS / 10, 'the resumed server online everywhere');
  await c.runFor(30 * PROBE_MS);
  return { backOnlineAfter: ms / PROBE_MS, falseOfflines: c.falseOfflines - falseBefore };
}

/** False offline declarations over `rounds` probe intervals with message loss, and optionally one starved server. */
export async function falseOfflines(o: ScenarioOptions & { rounds: number; starvedLagMs?: number }): Promise<number> {
  const c = cluster(o);
  if (o.starvedLagMs) c.nodes[0].timerLagMs = o.starvedLagMs;
  c.startConverged();
  await c.runFor(o.rounds * PROBE_MS);
  return c.falseOfflines;
}

/** Split in two halves; time until each side marks the other offline; heal; time until all see all online. */
export async function partitionAndHeal(o: ScenarioOptions): Promise<{ splitDetected: number; healed: number; lost: number }> {
  const c = cluster(o);
  c.startConverged();
  await c.runFor(WARM_UP_MS);
  const half = Math.floor(c.nodes.length / 2);
  c.partition((_n, i) => (i < half ? 1 : 2));
  const crossOffline = () => c.nodes.every((n, i) => c.nodes.every((m, j) => (i < half) === (j < half) || n.engine.member(m.url)?.online === false));
  const split = await c.timeUntil(crossOffline, 600 * PROBE_MS, PROBE_MS / 2, 'each side marking the other offline');
  c.heal();
  const allOnline = () => c.nodes.every((n) => c.nodes.every((m) => m === n || (n.engine.member(m.url)?.online === true && !n.engine.member(m.url)?.suspect)));
  const healed = await c.timeUntil(allOnline, 1200 * PROBE_MS, PROBE_MS / 2, 'every server online everywhere after healing');
  const lost = c.nodes.reduce((sum, n) => sum + (c.nodes.length - n.engine.viewSize), 0);
  return { splitDetected: split / PROBE_MS, healed: healed / PROBE_MS, lost };
}

/** A server that hangs and resumes repeatedly: how many offline/online transitions the others record. */
export async function flapping(o: ScenarioOptions & { cycles: number; downMs: number; upMs: number }): Promise<{ transitions: number; undamped: number }> {
  const run = async (settings: Partial<EngineSettings>) => {
    const c = cluster({ ...o, settings: { ...o.settings, ...settings } });
    c.startConverged();
    await c.runFor(WARM_UP_MS);
    const victim = pickVictim(c);
    c.recordChanges = true;
    for (let i = 0; i < o.cycles; i++) {
      victim.hung = true;
      await c.runFor(o.downMs);
      victim.hung = false;
      await c.runFor(o.upMs);
    }
    // offline declarations and comebacks; a refuted suspicion (suspect -> alive) never left the cluster
    return c.changes.filter((x) => x.change.server.baseUrl === victim.url && (x.change.type === 'offline' || x.change.previous === 'offline')).length;
  };
  return { transitions: await run({}), undamped: await run({ flapThreshold: 1e9 }) };
}

/** Bytes per message and per server per second in a steady, converged cluster. */
export async function steadyBytes(o: ScenarioOptions & { seconds: number }): Promise<{ perMessage: number; perServerPerSecond: number }> {
  const c = cluster(o);
  c.startConverged();
  await c.runFor(WARM_UP_MS);
  const bytes0 = c.bytes;
  const messages0 = c.messages;
  await c.runFor(o.seconds * 1000);
  const bytes = c.bytes - bytes0;
  return { perMessage: Math.round(bytes / Math.max(1, c.messages - messages0)), perServerPerSecond: Math.round(bytes / o.size / o.seconds) };
}

/**
 * Under message loss, every few hundred probes a live server is suspected and then refutes:
 * two changes that must reach everyone. Per 5-interval window: suspicions raised in the
 * cluster per interval, and the mean piggyback queue depth per server. A depth that keeps
 * growing means the churn outruns what piggybacking carries.
 */
export async function queueGrowth(o: ScenarioOptions & { rounds: number }): Promise<{ interval: number; suspicionsPerInterval: number; meanQueueDepth: number; falseOfflines: number }[]> {
  const c = cluster(o);
  c.startConverged();
  const rows = [];
  let before = 0;
  for (let t = 5; t <= o.rounds; t += 5) {
    await c.runFor(5 * PROBE_MS);
    const stats = c.nodes.map((n) => n.engine.stats());
    const raised = stats.reduce((sum, s) => sum + s.suspicionsRaised, 0);
    rows.push({ interval: t, suspicionsPerInterval: (raised - before) / 5, meanQueueDepth: +(stats.reduce((sum, s) => sum + s.broadcastQueueDepth, 0) / o.size).toFixed(1), falseOfflines: c.falseOfflines });
    before = raised;
  }
  return rows;
}
