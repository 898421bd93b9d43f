/**
 * Failure detection between real processes on loopback (LAN profile: probe every 1 s, 500 ms
 * timeout): SIGKILL, SIGSTOP then SIGCONT, and a restart. Prints the measured times.
 */
import { jest } from '@jest/globals';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';

jest.setTimeout(180_000);

describe('failure detection between real processes', () => {
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '2' });
  const servers: ServerHandle[] = [];
  /** Every (observer, server) pair ever seen offline while the server was meant to be alive. */
  const falseOfflines = new Set<string>();
  let expectedDown = new Set<string>();
  let watching = true;
  let watcher: Promise<void> | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) servers.push(await cluster.add(`s${i}`));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await cluster.waitFor('5 online everywhere', () => cluster.onlineCounts(servers), (c) => c.every((n) => n === 5), 60_000);
    watcher = (async () => {
      while (watching) {
        for (const observer of servers) {
          if (expectedDown.has(observer.baseUrl)) continue;
          const view = await cluster.list(observer, 1000);
          for (const e of view?.offline ?? []) if (!expectedDown.has(e.baseUrl)) falseOfflines.add(`${observer.name} saw ${e.baseUrl}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await cluster.stopAll();
  });

  const offlineOnAll = (victim: ServerHandle) =>
    cluster.waitFor(
      `${victim.name} offline on every other server`,
      async () => Promise.all(servers.filter((s) => s !== victim).map(async (s) => (await cluster.list(s))?.offline.some((e) => e.baseUrl === victim.baseUrl))),
      (v) => v.every(Boolean),
      90_000,
      100,
    );
  const onlineOnAll = () => cluster.waitFor('all 5 online everywhere', () => cluster.onlineCounts(servers), (c) => c.every((n) => n === 5), 90_000, 100);

  it('SIGKILL: the killed server is offline everywhere, and online again after a restart', async () => {
    const victim = servers[3];
    expectedDown = new Set([victim.baseUrl]);
    const killedAt = Date.now();
    await cluster.signal(victim, 'SIGKILL');
    await offlineOnAll(victim);
    const detectedMs = Date.now() - killedAt;
    cluster.start(victim);
    const restartedAt = Date.now();
    await onlineOnAll();
    expectedDown = new Set();
    console.log(`SIGKILL: offline on all 4 others after ${(detectedMs / 1000).toFixed(1)} s; restarted server online on all after ${((Date.now() - restartedAt) / 1000).toFixed(1)} s (incl. Nest start-up)`);
    expect(detectedMs).toBeGreaterThan(0);
  });

  it('SIGSTOP then SIGCONT: offline while frozen, back online everywhere without a restart', async () => {
    const victim = servers[1];
    expectedDown = new Set([victim.baseUrl]);
    const stoppedAt = Date.now();
    await cluster.signal(victim, 'SIGSTOP');
    await offlineOnAll(victim);
    const detectedMs = Date.now() - stoppedAt;
    await cluster.signal(victim, 'SIGCONT');
    const resumedAt = Date.now();
    await onlineOnAll();
    const backMs = Date.now() - resumedAt;
    // give the resumed server time to (wrongly) accuse anyone, which the watcher would see
    await new Promise((r) => setTimeout(r, 5000));
    expectedDown = new Set();
    console.log(`SIGSTOP: offline on all others after ${(detectedMs / 1000).toFixed(1)} s; after SIGCONT online on all after ${(backMs / 1000).toFixed(1)} s`);
    expect(victim.child?.exitCode).toBeNull();
  });

  it('no live server was ever shown offline', () => {
    expect([...falseOfflines]).toEqual([]);
  });
});
