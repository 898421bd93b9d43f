/**
 * The cluster singleton between five real Nest servers on loopback (the sample app, whose job
 * is `@Cron('* * * * * *')` + `@ClusterSingleton()` appending `{ fireTime, pid }` to one file):
 * exactly one run per fire in steady state over 60 fires, all servers agreeing on the owners
 * of 1,000 keys; SIGTERM of the owner (no fire missed or doubled); SIGKILL of the owner (the
 * next run on a new owner within the detection bound + 2 fire intervals, no double; the
 * survivors agree on the 1,000 owners again). Every process is stopped by pid in afterAll.
 */
import { jest } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterMonitor } from '../../lib/cli/dashboard/cluster-monitor.js';
import { DEMO_SECRET, LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { allOnline } from '../support/offline-watcher.js';

jest.setTimeout(240_000);

const JOB = 'demo-report';
const PROBE_S = 0.5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  job: string;
  fireTime: number;
  pid: number;
  owner: string;
}

interface Coordination {
  viewId: string;
  owners: (string | null)[];
  owned: string[];
}

describe('a cron singleton on five real servers', () => {
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '0.5', SHAZBOT_PROBE_INTERVAL: String(PROBE_S), SHAZBOT_PROBE_TIMEOUT: '0.25' });
  const log = join(cluster.dir, 'runs.jsonl');
  const servers: ServerHandle[] = [];

  const runs = (): Map<number, Run[]> => {
    const byFire = new Map<number, Run[]>();
    if (!existsSync(log)) return byFire;
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line) continue;
      const run = JSON.parse(line) as Run;
      if (run.job === JOB) byFire.set(run.fireTime, [...(byFire.get(run.fireTime) ?? []), run]);
    }
    return byFire;
  };
  /** Every whole second in [from, to) with the runs of that fire. */
  const fires = (from: number, to: number) => {
    const byFire = runs();
    const out: { at: number; runs: Run[] }[] = [];
    for (let at = Math.ceil(from / 1000) * 1000; at < to; at += 1000) out.push({ at, runs: byFire.get(at) ?? [] });
    return out;
  };
  const coordination = async (s: ServerHandle): Promise<Coordination | undefined> => {
    try {
      const res = await fetch(`${s.baseUrl}coordination?keys=1000`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? ((await res.json()) as Coordination) : undefined;
    } catch {
      return undefined;
    }
  };
  /** Waits until every server in `group` has the same eligible set of `expected` members and the same 1,000 owners. */
  const agreement = (group: ServerHandle[], expected: ServerHandle[]) =>
    cluster.waitFor(
      `${group.length} servers agreeing on the owners of 1,000 keys`,
      () => Promise.all(group.map(coordination)),
      (views) =>
        views.every((v) => v && v.viewId === views[0]!.viewId && JSON.stringify(v.owners) === JSON.stringify(views[0]!.owners)) &&
        new Set(views[0]!.owners).size === expected.length &&
        views[0]!.owners.every((o) => expected.some((s) => s.baseUrl === o)),
      60_000,
      250,
    );
  const pidOf = (s: ServerHandle) => s.child!.pid!;
  const serverOfPid = (pid: number) => servers.find((s) => s.child?.pid === pid && s.child.exitCode === null && s.child.signalCode === null);
  /** The server that ran the latest fire (waits for a fire). */
  const currentOwner = async (): Promise<ServerHandle> => {
    const since = Date.now();
    const fire = await cluster.waitFor('a run of the job', async () => fires(since - 1000, Date.now()).filter((f) => f.runs.length > 0).pop(), (f) => f !== undefined, 10_000, 100);
    const owner = serverOfPid(fire!.runs[0].pid);
    if (!owner) throw new Error(`the last run came from pid ${fire!.runs[0].pid}, which is not a live server`);
    return owner;
  };

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) servers.push(await cluster.add(`single-${i}`, { env: { DEMO_SINGLETON_LOG: log } }));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 90_000);
  });

  afterAll(() => cluster.stopAll());

  it('all five agree on the owners of 1,000 keys, and run each fire exactly once over 60 fires', async () => {
    const views = await agreement(servers, servers);
    expect(new Set(views.map((v) => v!.viewId)).size).toBe(1);
    // converged: past the hand-over delay (2 probe intervals) and the fire under way
    await sleep(2 * PROBE_S * 1000 + 1500);
    const from = Date.now();
    await sleep(61_000);
    const steady = fires(from, Date.now() - 1000);
    const owners = (await Promise.all(servers.map(coordination))).map((v) => v!.owned.includes(JOB));
    console.log(`singleton, steady state: ${steady.length} fires, ${steady.filter((f) => f.runs.length > 1).length} doubles, ${steady.filter((f) => f.runs.length === 0).length} missed`);
    expect(steady.length).toBeGreaterThanOrEqual(60);
    expect(steady.filter((f) => f.runs.length !== 1)).toEqual([]);
    expect(new Set(steady.map((f) => f.runs[0].pid)).size).toBe(1);
    expect(owners.filter(Boolean)).toHaveLength(1); // status() lists the job on its owner only

    // the dashboard's monitor shows the owners the servers publish, and how they split the keys
    const saved = process.env.SHAZBOT_SECRET;
    process.env.SHAZBOT_SECRET = DEMO_SECRET;
    const monitor = new ClusterMonitor({ entry: servers[1].baseUrl, connection: { prefix: 'clustershazbot', cluster: 'default', timeoutMs: 2000 }, intervalMs: 1000 });
    try {
      await monitor.start();
      const ownership = monitor.snapshot().ownership!;
      const owner = servers[owners.indexOf(true)].baseUrl;
      expect(ownership.singletons.filter((s) => s.name === JOB)).toEqual([{ name: JOB, owner }]);
      expect(ownership.singletons.map((s) => s.name).sort()).toEqual([JOB, 'demo-report-unguarded']);
      expect(ownership.keysPerOwner.map((k) => k.owner).sort()).toEqual(servers.map((s) => s.baseUrl).sort());
      expect(ownership.keysPerOwner.reduce((n, k) => n + k.keys, 0)).toBe(10_000);
    } finally {
      await monitor.stop();
      process.env.SHAZBOT_SECRET = saved;
      if (saved === undefined) delete process.env.SHAZBOT_SECRET;
    }
  });

  it('SIGTERM of the owner: no fire missed, none doubled', async () => {
    const owner = await currentOwner();
    await sleep(Math.random() * 1000); // anywhere in the second
    const stoppedAt = Date.now();
    await cluster.signal(owner, 'SIGTERM');
    await sleep(6000);
    const around = fires(stoppedAt - 3000, Date.now() - 1000);
    const after = around.filter((f) => f.at > stoppedAt);
    console.log(`singleton, SIGTERM of the owner: ${around.filter((f) => f.runs.length === 0).length} missed, ${around.filter((f) => f.runs.length > 1).length} doubled, new owner from ${new Date(after[0].at).toISOString()}`);
    expect(around.filter((f) => f.runs.length !== 1)).toEqual([]);
    expect(after.every((f) => f.runs[0].pid !== pidOf(owner))).toBe(true);
  });

  it('SIGKILL of the owner, twice: the next run on a new owner within the detection bound + 2 intervals; no double; agreement again', async () => {
    const live = () => servers.filter((s) => s.child && s.child.exitCode === null && s.child.signalCode === null);
    // the stated bound of a killed process's detection, 2 + ceil(log2 N) probe intervals (docs/failure-detection.md), + 2 fires
    const boundMs = (2 + Math.ceil(Math.log2(servers.length))) * PROBE_S * 1000 + 2 * 1000;
    const takeOvers: number[] = [];
    for (let trial = 0; trial < 2; trial++) {
      await agreement(live(), live());
      const owner = await currentOwner();
      await sleep(Math.random() * 1000);
      const killedAt = Date.now();
      const pid = pidOf(owner);
      await cluster.signal(owner, 'SIGKILL');
      const next = await cluster.waitFor('a run on a new owner', async () => fires(killedAt, Date.now()).find((f) => f.runs.length > 0), (f) => f !== undefined, 30_000, 100);
      takeOvers.push(next!.at - killedAt);
      expect(next!.runs.every((r) => r.pid !== pid)).toBe(true);
      const survivors = live();
      await agreement(survivors, survivors);
      await sleep(3000);
      const window = fires(killedAt - 3000, Date.now() - 1000);
      expect(window.filter((f) => f.runs.length > 1)).toEqual([]);
      expect(window.filter((f) => f.at >= next!.at && f.runs.length !== 1)).toEqual([]);
      // back to four before the next trial (the one stopped by SIGTERM stays down): the killed server restarts, a new process at its URL
      cluster.start(owner);
      await allOnline(cluster, live(), 60_000);
    }
    console.log(`singleton, SIGKILL of the owner: next run after ${takeOvers.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (bound ${boundMs / 1000} s)`);
    for (const ms of takeOvers) expect(ms).toBeLessThanOrEqual(boundMs);
    await agreement(live(), live());
  });
});
