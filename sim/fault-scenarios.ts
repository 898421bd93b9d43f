/**
 * Faults that production membership systems have hit (memberlist, Serf, Consul, Cassandra,
 * chitchat, ringpop), replayed on the real engine in the simulator: restarts behind skewed
 * clocks, restarts that listen late, simultaneous graceful leaves, two processes with one URL.
 * Each returns what went wrong, counted, so a test can require zero.
 */
import { SimTimeout, VirtualCluster, type SimNode } from './virtual-cluster.js';

const PROBE_MS = 1000;

function cluster(size: number, seed: number): VirtualCluster {
  return new VirtualCluster({ size, seed, settings: { probeIntervalMs: PROBE_MS }, gossipIntervalMs: 30_000 });
}

/**
 * A restarted process behind its predecessor's stamps (Cassandra's "seconds since epoch is not
 * a safe generation"). `skew`: `peer` puts one other server's clock 2 min ahead (the hybrid
 * clocks of all then run ahead of their wall clocks); `victim` runs the victim 2 min ahead
 * until it dies and corrects it at restart (NTP at boot). The victim writes `load` ten times
 * over 10 s, is killed and restarted at its URL, and writes `load` = `new-0`.
 * Returns the probe intervals until every other server holds `new-0`; throws SimTimeout when that
 * does not happen within `limitS`.
 */
export async function restartBehindStamps(o: { seed: number; skew: 'peer' | 'victim' | 'none'; limitS?: number }): Promise<number> {
  const c = cluster(6, o.seed);
  const victim = c.nodes[3];
  if (o.skew === 'peer') c.nodes[1].skewMs = 120_000;
  if (o.skew === 'victim') victim.skewMs = 120_000;
  c.startConverged();
  await c.runFor(5 * PROBE_MS);
  for (let i = 0; i < 10; i++) {
    victim.engine.setLocalState('load', `old-${i}`);
    await c.runFor(PROBE_MS);
  }
  c.crash(victim);
  await c.runFor(2 * PROBE_MS);
  victim.skewMs = 0;
  c.restart(victim, c.nodes[0].url);
  victim.engine.setLocalState('load', 'new-0');
  const others = c.nodes.filter((n) => n !== victim);
  const ms = await c.timeUntil(() => others.every((n) => n.engine.peerValue(victim.url, 'load') === 'new-0'), (o.limitS ?? 600) * 1000, PROBE_MS / 4, "the restarted server's new value on every other server");
  return ms / PROBE_MS;
}

/**
 * A server killed and restarted at its URL whose port starts listening `gapMs` after its
 * gossip starts. Returns how many times a live server, after it had seen the new process
 * online, saw it go offline again (a false offline of the new process).
 */
export async function restartWithListenGap(o: { seed: number; gapMs: number; size?: number }): Promise<number> {
  const c = cluster(o.size ?? 8, o.seed);
  c.startConverged();
  // past the minimum suspicion timeout, so that the victim is an established member
  await c.runFor(15 * PROBE_MS);
  const victim = c.nodes[1 + Math.floor(c.random() * (c.nodes.length - 1))];
  c.crash(victim);
  await c.runFor(PROBE_MS / 2);
  const restartedAt = c.time;
  c.recordChanges = true;
  c.restart(victim, c.nodes.find((n) => n !== victim)!.url, { listenAfterMs: o.gapMs });
  await c.runFor(30 * PROBE_MS);
  let falseOfflines = 0;
  for (const observer of c.nodes) {
    if (observer === victim) continue;
    let sawNew = false;
    for (const { observer: who, change } of c.changes) {
      if (who !== observer.url || change.server.baseUrl !== victim.url) continue;
      if ((change.type === 'online' || change.type === 'joined') && change.server.lastUpdate >= restartedAt) sawNew = true;
      else if (change.type === 'offline' && sawNew) falseOfflines++;
    }
  }
  return falseOfflines;
}

export interface LeaveResult {
  /** Final survivor views that show a leaver as failed (declared by someone) or not offline, instead of left. */
  notLeft: number;
  /** A survivor saw a leaver come back as a member (suspect or online) after it had left. */
  revived: number;
  /** Leave pushes acknowledged by survivors. */
  toldSurvivors: number;
  /** Leavers that told fewer than three survivors. */
  short: number;
}

/**
 * `leavers` of `size` servers shut down gracefully at the same moment; each host vanishes as
 * soon as its leave has been told (its pushes sent). Every survivor must end with every leaver
 * offline by its own word (no `by`), and never see it come back.
 */
export async function simultaneousLeave(o: { seed: number; size?: number; leavers?: number }): Promise<LeaveResult> {
  const c = cluster(o.size ?? 15, o.seed);
  c.startConverged();
  await c.runFor(15 * PROBE_MS);
  const leavers = c.nodes.slice(1, 1 + (o.leavers ?? 5));
  const survivors = c.nodes.filter((n) => !leavers.includes(n));
  c.recordChanges = true;
  let toldSurvivors = 0;
  let short = 0;
  for (const node of leavers) {
    const deadline = c.time + 3000;
    void node.engine.leave(3, deadline).then((told) => {
      const survivorsTold = told.filter((url) => survivors.some((s) => s.url === url)).length;
      toldSurvivors += survivorsTold;
      if (survivorsTold < 3) short++;
      c.crash(node, true);
    });
  }
  await c.runFor(60 * PROBE_MS);
  let notLeft = 0;
  for (const s of survivors) {
    for (const l of leavers) {
      const entry = s.engine.member(l.url);
      if (!entry || entry.online || entry.by) notLeft++;
    }
  }
  let revived = 0;
  for (const s of survivors) {
    for (const l of leavers) {
      let left = false;
      for (const { observer, change } of c.changes) {
        if (observer !== s.url || change.server.baseUrl !== l.url) continue;
        if (change.type === 'offline' && !change.server.by) left = true;
        else if (left && (change.type === 'suspect' || change.type === 'online' || change.type === 'offline')) revived++;
      }
    }
  }
  return { notLeft, revived, toldSurvivors, short };
}

export interface TwinResult {
  /** Intervals from the twin's start until both processes report the conflict (SimTimeout when they never do). */
  detectedAfter: number;
  /** Each process's role once decided. */
  originalRole?: string;
  twinRole?: string;
  /** Refutations by either process in the last `settleS` seconds (0 once settled). */
  refutationsAfterSettling: number;
  /** Requests the twin sent in the last `settleS` seconds. */
  twinRequestsAfterSettling: number;
  /** Survivors' views of the URL at the end: online by the original's word. */
  viewsOnOriginal: number;
  /** Key `who` as the other servers hold it for the URL. */
  heldValues: string[];
}

/** A converged cluster of 6 where a twin of server 2 starts at its URL; each has written key `who`. */
async function withTwin(seed: number): Promise<{ c: ReturnType<typeof cluster>; original: SimNode; twin: SimNode }> {
  const c = cluster(6, seed);
  c.startConverged();
  await c.runFor(10 * PROBE_MS);
  const original = c.nodes[2];
  original.engine.setLocalState('who', 'original');
  await c.runFor(2 * PROBE_MS);
  const twin: SimNode = c.addTwin(original);
  twin.engine.setLocalState('who', 'twin');
  return { c, original, twin };
}

/**
 * Two processes with one base URL (a copy-pasted configuration): the URL reaches `original`;
 * the twin gossips from the same URL. Runs `runS` seconds.
 */
export async function twinAddress(o: { seed: number; runS?: number; settleS?: number }): Promise<TwinResult> {
  const { c, original, twin } = await withTwin(o.seed);
  const started = c.time;
  let detectedAfter = -1;
  const runMs = (o.runS ?? 600) * 1000;
  const settleMs = (o.settleS ?? 120) * 1000;
  while (c.time - started < runMs - settleMs) {
    await c.runFor(PROBE_MS);
    if (detectedAfter < 0 && original.engine.conflict() && twin.engine.conflict()) detectedAfter = (c.time - started) / PROBE_MS;
  }
  if (detectedAfter < 0) throw new SimTimeout(`seed ${o.seed}: both processes reporting the address conflict`, runMs - settleMs);
  const sends = (n: SimNode) => {
    const st = n.engine.stats();
    return st.rounds + st.probesSent + st.pushesSent;
  };
  const refutations0 = original.engine.stats().selfReassertions + twin.engine.stats().selfReassertions;
  const twinSends0 = sends(twin);
  await c.runFor(settleMs);
  const refutations = original.engine.stats().selfReassertions + twin.engine.stats().selfReassertions - refutations0;
  const twinRequests = sends(twin) - twinSends0;
  const others = c.nodes.filter((n) => n !== original);
  return {
    detectedAfter,
    originalRole: original.engine.conflict()?.role,
    twinRole: twin.engine.conflict()?.role,
    refutationsAfterSettling: refutations,
    twinRequestsAfterSettling: twinRequests,
    viewsOnOriginal: others.filter((n) => n.engine.member(original.url)?.generation === original.engine.generation && n.engine.member(original.url)?.online).length,
    heldValues: others.map((n) => String(n.engine.peerValue(original.url, 'who'))),
  };
}

export interface TwinOutlivesResult {
  /** Seconds from the original's death until every other server shows the twin's new generation online and holds its keys (SimTimeout when not within `limitS`). */
  takenBackAfterS: number;
  /** The twin's role before the original died. */
  twinRoleBefore?: string;
  /** Key `who` as the other servers hold it for the URL at the end. */
  heldValues: string[];
}

/**
 * Two processes with one base URL, as in `twinAddress`; once the twin has yielded, the
 * original is killed (SIGKILL: its port refuses), so the URL reaches no process. The cluster
 * declares the original offline; the twin, whose self-checks find nothing at the URL, must
 * learn that from the cluster and take the address back as a new generation whose keys (one
 * written before it yielded, one after it took the address back) reach everyone.
 */
export async function twinOutlivesOriginal(o: { seed: number; limitS?: number }): Promise<TwinOutlivesResult> {
  const { c, original, twin } = await withTwin(o.seed);
  await c.runFor(60 * PROBE_MS);
  const twinRoleBefore = twin.engine.conflict()?.role;
  const yieldedGeneration = twin.engine.generation;
  c.crash(original);
  const others = c.nodes.filter((n) => n !== original);
  let wroteAfter = false;
  const ms = await c.timeUntil(
    () => {
      if (!wroteAfter && twin.engine.generation !== yieldedGeneration) {
        twin.engine.setLocalState('after', 'twin');
        wroteAfter = true;
      }
      return wroteAfter && others.every((n) => n.engine.member(original.url)?.generation === twin.engine.generation && n.engine.member(original.url)?.online && n.engine.peerValue(original.url, 'who') === 'twin' && n.engine.peerValue(original.url, 'after') === 'twin');
    },
    (o.limitS ?? 300) * 1000,
    PROBE_MS / 4,
    `seed ${o.seed}: every other server holding the twin's new generation online, with its keys`,
  );
  return { takenBackAfterS: ms / 1000, twinRoleBefore, heldValues: others.map((n) => String(n.engine.peerValue(original.url, 'who'))) };
}
