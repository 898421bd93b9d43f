/**
 * `npm run test:reliability`: real processes under real faults, each printing its figures
 * (also appended to reliability-results.jsonl) and asserting them against their stated bounds
 * in probe intervals (test/support/bounds.ts). Needs root for the network namespaces, and
 * stress-ng and libfaketime from Debian (`.ci/run` installs them): a scenario whose tool is
 * missing fails, naming the package, rather than skipping.
 */
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { expectWithin, HEAL_INTERVALS, killedProcessIntervals, lostHostIntervals, partitionIntervals, spreadIntervals, unconfirmedSuspicionIntervals } from '../support/bounds.js';
import { allOnline, offlineOnAll, OfflineWatcher } from '../support/offline-watcher.js';
import { report } from './figures.js';
import { LossProxy } from './loss-proxy.js';
import { NamespaceLab } from './namespace-lab.js';

jest.setTimeout(300_000);

const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const STRESS_NG = '/usr/bin/stress-ng';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => +(ms / 1000).toFixed(1);
/** The LAN profile's probe interval (the sample servers run it): the unit of every bound. */
const PROBE_MS = 1000;
/** Past the minimum suspicion timeout at these sizes (4 intervals): every server is an established member of every other's view. */
const ESTABLISHED_AFTER_MS = 5 * PROBE_MS;

/** Fails the scenario, naming what to install, when its tool is missing: a missing tool is not a pass. */
function requireTool(present: boolean, what: string): void {
  if (!present) throw new Error(`this scenario needs ${what}; .ci/run installs it (as root: apt-get install stress-ng faketime iproute2)`);
}

async function startCluster(cluster: LocalCluster, count: number, env: (i: number) => Record<string, string> = () => ({})): Promise<ServerHandle[]> {
  const servers: ServerHandle[] = [];
  for (let i = 0; i < count; i++) servers.push(await cluster.add(`s${i}`, { env: env(i) }));
  cluster.writeMasterList([servers[0].baseUrl]);
  servers.forEach((s) => cluster.start(s));
  await allOnline(cluster, servers, 90_000);
  return servers;
}

describe('crash and hang, three trials each', () => {
  const cluster = new LocalCluster();
  afterAll(() => cluster.stopAll());

  it('SIGKILL and SIGSTOP/SIGCONT on a 6-server cluster', async () => {
    const servers = await startCluster(cluster, 6);
    const watcher = new OfflineWatcher(cluster, servers);
    const kill: number[] = [];
    const stop: number[] = [];
    const resume: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const victim = servers[1 + trial];
      const others = servers.filter((s) => s !== victim);
      watcher.expectDown(victim);
      // the stated bound of a killed process is for an established member: one known longer than
      // the minimum suspicion timeout (a new one may not listen yet, and gets a suspicion)
      await sleep(ESTABLISHED_AFTER_MS);
      await cluster.signal(victim, 'SIGKILL');
      kill.push(await offlineOnAll(cluster, others, victim));
      cluster.start(victim);
      await allOnline(cluster, servers);
      await sleep(ESTABLISHED_AFTER_MS);
      await cluster.signal(victim, 'SIGSTOP');
      stop.push(await offlineOnAll(cluster, others, victim));
      await cluster.signal(victim, 'SIGCONT');
      resume.push(await allOnline(cluster, servers));
      await sleep(3000);
      watcher.expectDown();
    }
    await watcher.stop();
    report('crash-and-hang', {
      servers: 6,
      sigkillOfflineOnAllSeconds: kill.map(seconds),
      sigstopOfflineOnAllSeconds: stop.map(seconds),
      sigcontOnlineOnAllSeconds: resume.map(seconds),
      falseOfflines: watcher.falseOfflines.size,
    });
    expect([...watcher.falseOfflines]).toEqual([]);
    kill.forEach((ms, i) => expectWithin(`SIGKILL trial ${i + 1}: offline on all 5 others`, ms, killedProcessIntervals(servers.length), PROBE_MS));
    stop.forEach((ms, i) => expectWithin(`SIGSTOP trial ${i + 1}: offline on all 5 others`, ms, lostHostIntervals(servers.length), PROBE_MS));
  });
});

describe('partition between network namespaces', () => {
  const lab = new NamespaceLab();
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '2' });

  beforeAll(() => requireTool(NamespaceLab.available(), 'root and `ip netns` (Debian iproute2)'));

  afterAll(async () => {
    await cluster.stopAll();
    lab.destroy();
  });

  it('each side marks the other offline; after healing all are online again, nobody lost', async () => {
    const sides: ('a' | 'b')[] = ['a', 'a', 'a', 'b', 'b', 'b'];
    lab.setup(sides);
    const servers: ServerHandle[] = [];
    for (let i = 0; i < sides.length; i++) {
      servers.push(
        await cluster.add(`${sides[i]}${i}`, {
          host: lab.hosts[i].ip,
          port: 3000,
          wrap: lab.wrap(i),
          env: { LISTEN_HOST: '0.0.0.0' }, // cluster traffic on the bridge, the test on the management link
          adminUrl: `http://${lab.hosts[i].adminIp}:3000/`,
        }),
      );
    }
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 90_000);

    const splitAt = Date.now();
    lab.partition();
    const sideA = servers.slice(0, 3);
    const sideB = servers.slice(3);
    const crossOffline = async () =>
      Promise.all(
        servers.map(async (s) => {
          const view = await cluster.list(s);
          const other = sideA.includes(s) ? sideB : sideA;
          return other.every((o) => view?.offline.some((e) => e.baseUrl === o.baseUrl));
        }),
      );
    await cluster.waitFor('each side to mark the other offline', crossOffline, (v) => v.every(Boolean), 120_000, 250);
    const splitMs = Date.now() - splitAt;

    const healAt = Date.now();
    lab.heal();
    await allOnline(cluster, servers, 180_000);
    const healMs = Date.now() - healAt;
    const sizes = await Promise.all(servers.map(async (s) => ((await cluster.list(s))?.online.length ?? 0) + ((await cluster.list(s))?.offline.length ?? 0)));
    report('partition', { servers: 6, split: '3/3', crossOfflineOnAllSeconds: seconds(splitMs), healedOnAllSeconds: seconds(healMs), lostEntries: sizes.filter((n) => n !== 6).length });
    expect(sizes).toEqual([6, 6, 6, 6, 6, 6]);
    expectWithin('partition: each side shows the other offline on every server', splitMs, partitionIntervals(6, 3), PROBE_MS);
    expectWithin('partition healed: every server online everywhere', healMs, HEAL_INTERVALS, PROBE_MS);
  });
});

describe('10 % message loss through proxies', () => {
  const cluster = new LocalCluster();
  const proxies: LossProxy[] = [];

  afterAll(async () => {
    await cluster.stopAll();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('no false offline over two minutes, and a crash is still detected', async () => {
    const servers: ServerHandle[] = [];
    for (let i = 0; i < 5; i++) {
      const listenPort = await freePort();
      const server = await cluster.add(`s${i}`, { env: { LISTEN_PORT: String(listenPort) } });
      const proxy = new LossProxy(listenPort, 0.1);
      await proxy.listen(server.port); // peers reach the server only through its proxy
      proxies.push(proxy);
      servers.push(server);
    }
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 120_000);
    const watcher = new OfflineWatcher(cluster, servers);
    await sleep(120_000);
    const victim = servers[4];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGKILL');
    const detectMs = await offlineOnAll(cluster, servers.slice(0, 4), victim);
    await watcher.stop();
    // behind a proxy a dead server's port is never refused (the proxy accepts): a suspicion runs,
    // and lost messages may keep its confirmations from arriving
    expectWithin('10 % loss: SIGKILL offline on the other 4', detectMs, unconfirmedSuspicionIntervals(servers.length), PROBE_MS);
    const dropped = proxies.reduce((n, p) => n + p.dropped, 0);
    const forwarded = proxies.reduce((n, p) => n + p.forwarded, 0);
    report('loss-10-percent', {
      servers: 5,
      observedSeconds: 120,
      messagesDropped: dropped,
      messagesForwarded: forwarded,
      falseOfflines: watcher.falseOfflines.size,
      sigkillOfflineOnAllSeconds: seconds(detectMs),
    });
    expect([...watcher.falseOfflines]).toEqual([]);
  });
});

describe('one server five minutes ahead (libfaketime)', () => {
  const cluster = new LocalCluster();
  beforeAll(() => requireTool(existsSync(FAKETIME_LIB), `libfaketime (${FAKETIME_LIB}, Debian faketime)`));
  afterAll(() => cluster.stopAll());

  it('it joins and stays online; changes still propagate both ways; no false offline', async () => {
    const ahead = { LD_PRELOAD: FAKETIME_LIB, FAKETIME: '+5m', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    const behind = { LD_PRELOAD: FAKETIME_LIB, FAKETIME: '-5m', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    // clocks 10 min apart: the signature window (default 300 s) must cover the spread
    const window = { SHAZBOT_SIGNATURE_WINDOW: '660' };
    const servers = await startCluster(cluster, 5, (i) => ({ ...window, ...(i === 4 ? ahead : i === 3 ? behind : {}) }));
    const watcher = new OfflineWatcher(cluster, servers);
    await sleep(30_000);
    const controlled = async (target: ServerHandle, online: boolean) => cluster.signedFetch(target, 'POST', 'control', { message: 'control', online });
    const spread: number[] = [];
    for (const target of [servers[1], servers[4], servers[3]]) {
      watcher.expectDown(target);
      await controlled(target, false);
      spread.push(await offlineOnAll(cluster, servers.filter((s) => s !== target), target));
      await controlled(target, true);
      await allOnline(cluster, servers);
      watcher.expectDown();
    }
    await sleep(5000);
    await watcher.stop();
    report('clock-skew', { servers: 5, skew: 'one +5 min, one -5 min', signatureWindowSeconds: 660, controlOfflineReachedAllSeconds: spread.map(seconds), falseOfflines: watcher.falseOfflines.size });
    expect([...watcher.falseOfflines]).toEqual([]);
    spread.forEach((ms, i) => expectWithin(`clock skew: control offline ${i + 1} on the other 4`, ms, spreadIntervals(servers.length), PROBE_MS));
  });
});

describe('CPU starvation (stress-ng, 4 workers on 2 cores)', () => {
  const cluster = new LocalCluster();
  let stress: ReturnType<typeof spawn> | undefined;
  beforeAll(() => requireTool(existsSync(STRESS_NG), `stress-ng (${STRESS_NG}, Debian stress-ng)`));
  afterAll(async () => {
    stress?.kill('SIGKILL');
    await cluster.stopAll();
  });

  it('no false offline under load, and a crash is still detected', async () => {
    const servers = await startCluster(cluster, 5);
    const watcher = new OfflineWatcher(cluster, servers);
    stress = spawn(STRESS_NG, ['--cpu', '4', '--timeout', '90s', '--quiet'], { stdio: 'ignore' });
    await sleep(60_000);
    const victim = servers[2];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGKILL');
    const detectMs = await offlineOnAll(cluster, servers.filter((s) => s !== victim), victim);
    stress.kill('SIGKILL');
    await watcher.stop();
    report('cpu-starvation', { servers: 5, stressWorkers: 4, cores: 2, observedSeconds: 60, falseOfflines: watcher.falseOfflines.size, sigkillOfflineOnAllSeconds: seconds(detectMs) });
    expect([...watcher.falseOfflines]).toEqual([]);
    // starved servers' timers run late: Lifeguard withholds accusations (and confirmations) while
    // they do, so under stress only an unconfirmed suspicion's bound is promised
    expectWithin('CPU starvation: SIGKILL offline on the other 4', detectMs, unconfirmedSuspicionIntervals(servers.length), PROBE_MS);
  });
});
