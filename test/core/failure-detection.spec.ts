/**
 * The failure detector on the deterministic simulator: the real engine for every server, a
 * virtual clock and network. Bounds are in probe intervals (machine-independent).
 */
import { suspicionTimeoutMs } from '../../lib/core/suspicion.js';
import { detection, disseminationRounds, falseOfflines, flapping, hangAndResume, partitionAndHeal } from '../../sim/scenarios.js';
import { VirtualCluster } from '../../sim/virtual-cluster.js';

/** Stated bound for "offline on every live server", in probe intervals: first probe + indirect (2) + minimum suspicion + spread. */
function detectionBound(n: number): number {
  return 2 + 4 * Math.max(1, Math.log10(n)) + Math.ceil(Math.log2(n)) + 2;
}

/**
 * A killed process: its port refuses, so the first probe of it ends in an offline declaration;
 * pushes then spread it. The first probe, plus log2 N pushes of 0.2 intervals, rounded up.
 */
function killedProcessBound(n: number): number {
  return 2 + Math.ceil(Math.log2(n));
}

describe('failure detection (simulated, real engine)', () => {
  it('suspicion timeout follows Lifeguard: from 6x the minimum down to 4 * max(1, log10 N) intervals', () => {
    const base = { probeIntervalMs: 1000, suspicionMult: 4, suspicionMaxMult: 6, expectedConfirmations: 3 };
    expect(suspicionTimeoutMs({ ...base, clusterSize: 10, confirmations: 0 })).toBe(24_000);
    expect(suspicionTimeoutMs({ ...base, clusterSize: 10, confirmations: 3 })).toBe(4000);
    expect(suspicionTimeoutMs({ ...base, clusterSize: 1000, confirmations: 3 })).toBe(12_000);
    expect(suspicionTimeoutMs({ ...base, clusterSize: 10, confirmations: 1 })).toBeLessThan(24_000);
  });

  it.each([10, 30])('a lost host (nothing answers) is offline on all %i servers within the stated bound, no false alarms', async (n) => {
    for (const seed of [1, 2, 3]) {
      const result = await detection({ size: n, seed, fault: 'host-lost' });
      expect(result.all).toBeGreaterThan(0);
      expect(result.all).toBeLessThanOrEqual(detectionBound(n));
      expect(result.falseOfflines).toBe(0);
    }
  });

  it.each([10, 30])('a killed process (its port refuses) is offline on all %i servers within the stated bound, no false alarms', async (n) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = await detection({ size: n, seed, fault: 'crash' });
      expect(result.all).toBeGreaterThan(0);
      expect(result.all).toBeLessThanOrEqual(killedProcessBound(n));
      expect(result.falseOfflines).toBe(0);
    }
  });

  it('a hung server (SIGSTOP) is detected, and is online everywhere again soon after it resumes, accusing nobody', async () => {
    const hung = await detection({ size: 10, seed: 4, fault: 'hang' });
    expect(hung.all).toBeLessThanOrEqual(detectionBound(10));
    const resumed = await hangAndResume({ size: 10, seed: 5, hangMs: 30_000 });
    expect(resumed.backOnlineAfter).toBeGreaterThan(0);
    expect(resumed.backOnlineAfter).toBeLessThanOrEqual(6);
    expect(resumed.falseOfflines).toBe(0);
  });

  it('a probe tick that waits out its timeouts past the interval is not mistaken for a starved timer', async () => {
    // with a hung target, a tick takes the direct timeout plus the second attempt's (1.5 intervals);
    // counting that as lateness withheld accusations and restarted suspicion timers (up to 21 intervals at N = 5)
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const hung = await detection({ size: 5, seed, fault: 'hang' });
      expect(hung.all).toBeGreaterThan(0);
      expect(hung.all).toBeLessThanOrEqual(detectionBound(5));
    }
  });

  it('10 % message loss is not death: no false offline in 1,000 intervals at N = 30', async () => {
    expect(await falseOfflines({ size: 30, seed: 6, rounds: 1000, lossRate: 0.1 })).toBe(0);
  });

  it('a starved server whose timers run 3 s late accuses nobody', async () => {
    expect(await falseOfflines({ size: 10, seed: 7, rounds: 300, starvedLagMs: 3000 })).toBe(0);
  });

  it('a partition: each side marks the other offline; after healing everyone is online again, nobody lost', async () => {
    const result = await partitionAndHeal({ size: 10, seed: 8 });
    expect(result.splitDetected).toBeGreaterThan(0);
    expect(result.healed).toBeGreaterThan(0);
    expect(result.healed).toBeLessThanOrEqual(30);
    expect(result.lost).toBe(0);
  });

  it('flap damping: a server that hangs for 8 s every 16 s causes far fewer offline/online changes', async () => {
    const result = await flapping({ size: 10, seed: 7, cycles: 10, downMs: 8000, upMs: 8000 });
    expect(result.transitions).toBeLessThan(result.undamped / 3);
  });

  it('a change reaches all servers in at most log2 N + 2 intervals', async () => {
    for (const n of [10, 100]) expect(await disseminationRounds({ size: n, seed: 9 })).toBeLessThanOrEqual(Math.log2(n) + 2);
  });

  it('a restarted server rejoins with fresh stamps; its old offline entry cannot win', async () => {
    const c = new VirtualCluster({ size: 8, seed: 10, settings: { probeIntervalMs: 1000 } });
    c.startConverged();
    await c.runFor(10_000);
    const victim = c.nodes[5];
    c.crash(victim);
    await c.timeUntil(() => c.seenBy(victim.url, (e) => e?.online === false) === c.live().length, 60_000);
    const offlineStamp = c.nodes[0].engine.member(victim.url)!.lastUpdate;
    c.restart(victim, c.nodes[0].url);
    const back = await c.timeUntil(() => c.seenBy(victim.url, (e) => e?.online === true && !e.suspect) === c.nodes.length - 1, 60_000);
    expect(back).toBeGreaterThan(0);
    expect(c.nodes[0].engine.member(victim.url)!.lastUpdate).toBeGreaterThan(offlineStamp);
    expect(victim.engine.viewSize).toBe(8);
  });

  it('reports peer events with reasons', async () => {
    const c = new VirtualCluster({ size: 5, seed: 11, settings: { probeIntervalMs: 1000 } });
    c.startConverged();
    await c.runFor(5000);
    c.recordChanges = true;
    c.crash(c.nodes[3]); // the process is gone, its port refuses: offline at once
    await c.runFor(10_000);
    c.crash(c.nodes[4], true); // the host is gone: a suspicion, then offline
    await c.runFor(30_000);
    const seenBy0 = (victim: number) => c.changes.filter((x) => x.observer === c.nodes[0].url && x.change.server.baseUrl === c.nodes[victim].url);
    expect(seenBy0(4).map((x) => x.change.type)).toEqual(['suspect', 'offline']);
    expect(seenBy0(4)[1].change.reason).toMatch(/^failed: declared by http:\/\/n\d\.sim\.invalid:8080\/$/);
    expect(seenBy0(3).map((x) => x.change.type)).toEqual(['offline']);
    expect(seenBy0(3)[0].change.reason).toMatch(/^failed: declared by http:\/\/n\d\.sim\.invalid:8080\/$/);
  });

  // The start-up grace (see FailureDetector.establishedMember): a process learnt of less than the
  // minimum suspicion timeout ago that refuses everyone may not listen yet. The grace must end.
  it('the start-up grace ends: a restarted process that never listens is declared offline once the grace is over, never before', async () => {
    const grace = suspicionTimeoutMs({ clusterSize: 8, confirmations: 0, probeIntervalMs: 1000, suspicionMult: 4, suspicionMaxMult: 6, expectedConfirmations: 0 });
    for (const seed of [12, 13, 14]) {
      const c = new VirtualCluster({ size: 8, seed, settings: { probeIntervalMs: 1000 } });
      c.startConverged();
      await c.runFor(15_000);
      const victim = c.nodes[3];
      c.crash(victim);
      await c.runFor(500);
      const restartedAt = c.time;
      c.recordChanges = true;
      c.restart(victim, c.nodes[0].url, { listenAfterMs: 10 * 60_000 }); // gossips, never listens
      await c.runFor(30_000);
      const ofNew = (type: string) => c.changes.filter((x) => x.observer !== victim.url && x.change.server.baseUrl === victim.url && x.change.server.lastUpdate >= restartedAt && x.change.type === type);
      const offline = ofNew('offline');
      expect(offline.length).toBeGreaterThan(0);
      // nobody learns of it before it starts: never within the grace, and soon after
      const first = Math.min(...offline.map((x) => x.at)) - restartedAt;
      expect(first).toBeGreaterThanOrEqual(grace);
      expect(first).toBeLessThanOrEqual(grace + 4_000);
      expect(offline[0].change.reason).toMatch(/^failed: declared by /);
    }
  });

  it('the start-up grace ends: a restarted process that answered is established, and when killed later it is offline within the usual bound', async () => {
    for (const seed of [15, 16, 17]) {
      const c = new VirtualCluster({ size: 8, seed, settings: { probeIntervalMs: 1000 } });
      c.startConverged();
      await c.runFor(15_000);
      const victim = c.nodes[3];
      c.crash(victim);
      await c.runFor(500);
      c.restart(victim, c.nodes[0].url, { listenAfterMs: 2_000 });
      const online = await c.timeUntil(() => c.seenBy(victim.url, (e) => e?.online === true && !e.suspect && e.generation === victim.engine.generation) === 7, 30_000);
      expect(online).toBeGreaterThan(0);
      await c.runFor(10_000);
      c.crash(victim);
      const all = await c.timeUntil(() => c.seenBy(victim.url, (e) => e?.online === false) === 7, 60_000, 250);
      expect(all).toBeGreaterThan(0);
      expect(all / 1000).toBeLessThanOrEqual(killedProcessBound(8));
    }
  });
});
