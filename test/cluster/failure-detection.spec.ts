/**
 * Failure detection between real processes on loopback (LAN profile: probe every 1 s, 500 ms
 * timeout): SIGKILL, SIGSTOP then SIGCONT, and a restart. Each detection time is asserted
 * against its stated bound in probe intervals (test/support/bounds.ts) and printed. The longer
 * scenarios (partition, loss, skew, starvation) are in `npm run test:reliability`.
 */
import { jest } from '@jest/globals';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { expectWithin, killedProcessIntervals, lostHostIntervals } from '../support/bounds.js';
import { allOnline, offlineOnAll, OfflineWatcher } from '../support/offline-watcher.js';

jest.setTimeout(180_000);

/** The LAN profile's probe interval (the sample servers run it). */
const PROBE_MS = 1000;
/** The minimum suspicion timeout at N = 5 (4 intervals), and one more: every server has known every other longer, so each is an established member. */
const ESTABLISHED_AFTER_MS = 5 * PROBE_MS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failure detection between real processes', () => {
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '2' });
  const servers: ServerHandle[] = [];
  let watcher: OfflineWatcher;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) servers.push(await cluster.add(`s${i}`));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 60_000);
    watcher = new OfflineWatcher(cluster, servers);
  });

  afterAll(async () => {
    await watcher?.stop();
    await cluster.stopAll();
  });

  it('SIGKILL: the killed server is offline everywhere within 2 + ceil(log2 N) intervals, and online again after a restart', async () => {
    // a member we learnt of only just now gets a suspicion's grace (it may not listen yet): the
    // stated bound is for an established one (step 3 of docs/failure-detection.md)
    await sleep(ESTABLISHED_AFTER_MS);
    const victim = servers[3];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGKILL');
    const detectedMs = await offlineOnAll(cluster, servers.filter((s) => s !== victim), victim);
    console.log(`SIGKILL: offline on all 4 others after ${(detectedMs / 1000).toFixed(1)} s (bound ${killedProcessIntervals(servers.length)} intervals)`);
    expectWithin('SIGKILL: offline on every other server', detectedMs, killedProcessIntervals(servers.length), PROBE_MS);
    cluster.start(victim);
    const backMs = await allOnline(cluster, servers);
    watcher.expectDown();
    console.log(`SIGKILL: restarted server online on all after ${(backMs / 1000).toFixed(1)} s (incl. Nest start-up)`);
  });

  it('SIGSTOP then SIGCONT: offline while frozen within the lost-host bound, back online everywhere without a restart', async () => {
    // a frozen process goes through a suspicion whether it is established or not: no wait here
    const victim = servers[1];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGSTOP');
    const detectedMs = await offlineOnAll(cluster, servers.filter((s) => s !== victim), victim);
    await cluster.signal(victim, 'SIGCONT');
    const backMs = await allOnline(cluster, servers);
    // give the resumed server time to (wrongly) accuse anyone, which the watcher would see
    await sleep(5000);
    watcher.expectDown();
    console.log(`SIGSTOP: offline on all others after ${(detectedMs / 1000).toFixed(1)} s (bound ${lostHostIntervals(servers.length).toFixed(1)} intervals); after SIGCONT online on all after ${(backMs / 1000).toFixed(1)} s`);
    expectWithin('SIGSTOP: offline on every other server', detectedMs, lostHostIntervals(servers.length), PROBE_MS);
    expect(victim.child?.exitCode).toBeNull();
  });

  it('no live server was ever shown offline', () => {
    expect([...watcher.falseOfflines]).toEqual([]);
  });
});
