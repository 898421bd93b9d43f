/**
 * Failure detection between real processes on loopback (LAN profile: probe every 1 s, 500 ms
 * timeout): SIGKILL, SIGSTOP then SIGCONT, and a restart. Prints the measured times. The
 * longer scenarios (partition, loss, skew, starvation) are in `npm run test:reliability`.
 */
import { jest } from '@jest/globals';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { allOnline, offlineOnAll, OfflineWatcher } from '../support/offline-watcher.js';

jest.setTimeout(180_000);

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

  it('SIGKILL: the killed server is offline everywhere, and online again after a restart', async () => {
    const victim = servers[3];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGKILL');
    const detectedMs = await offlineOnAll(cluster, servers.filter((s) => s !== victim), victim);
    cluster.start(victim);
    const backMs = await allOnline(cluster, servers);
    watcher.expectDown();
    console.log(`SIGKILL: offline on all 4 others after ${(detectedMs / 1000).toFixed(1)} s; restarted server online on all after ${(backMs / 1000).toFixed(1)} s (incl. Nest start-up)`);
  });

  it('SIGSTOP then SIGCONT: offline while frozen, back online everywhere without a restart', async () => {
    const victim = servers[1];
    watcher.expectDown(victim);
    await cluster.signal(victim, 'SIGSTOP');
    const detectedMs = await offlineOnAll(cluster, servers.filter((s) => s !== victim), victim);
    await cluster.signal(victim, 'SIGCONT');
    const backMs = await allOnline(cluster, servers);
    // give the resumed server time to (wrongly) accuse anyone, which the watcher would see
    await new Promise((r) => setTimeout(r, 5000));
    watcher.expectDown();
    console.log(`SIGSTOP: offline on all others after ${(detectedMs / 1000).toFixed(1)} s; after SIGCONT online on all after ${(backMs / 1000).toFixed(1)} s`);
    expect(victim.child?.exitCode).toBeNull();
  });

  it('no live server was ever shown offline', () => {
    expect([...watcher.falseOfflines]).toEqual([]);
  });
});
