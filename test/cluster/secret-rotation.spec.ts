/**
 * SECURITY.md's rotation procedure on a live cluster of real processes: install the new
 * secret everywhere, switch to signing with it, remove the old one, one rolling restart per
 * step. No server may refuse a single request for its authentication along the way.
 */
import { jest } from '@jest/globals';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { allOnline } from '../support/offline-watcher.js';

jest.setTimeout(240_000);

describe('secret rotation without downtime', () => {
  const cluster = new LocalCluster({ SHAZBOT_SECRET: 'old-secret' });
  const servers: ServerHandle[] = [];
  afterAll(() => cluster.stopAll());

  const refusals = async (s: ServerHandle) => ((await (await fetch(`${s.baseUrl}cluster`)).json()) as { stats: { authRefused: number } }).stats.authRefused;

  it('install, switch, remove: all online throughout, zero refused requests', async () => {
    for (let i = 0; i < 3; i++) servers.push(await cluster.add(`s${i}`));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 60_000);
    let refused = 0;
    for (const secret of ['old-secret,new-secret', 'new-secret,old-secret', 'new-secret']) {
      for (const server of servers) {
        refused += await refusals(server); // its count dies with the process
        await cluster.signal(server, 'SIGTERM');
        server.env.SHAZBOT_SECRET = secret;
        cluster.start(server);
        await allOnline(cluster, servers, 60_000);
      }
    }
    for (const server of servers) refused += await refusals(server);
    expect(refused).toBe(0);
    expect(servers.every((s) => s.env.SHAZBOT_SECRET === 'new-secret')).toBe(true);
  });
});
