/**
 * DNS discovery with real server processes on 127.0.0.x and a DNS server on loopback:
 * bootstrap from A and from SRV records alone; two clusters started apart merge when their
 * records change; a fleet whose records are all replaced reconverges without restarts.
 * The convergence figures are printed (in re-resolution intervals and rounds), not asserted as
 * times: `npm run bench:dns` prints them over several runs.
 */
import { DnsHarness, hostsOf, inIntervals, recordsReplaced, twoClustersMerge } from '../../bench/dns-scenarios.js';
import { freePort, freePortOn, type ServerHandle } from '../../sample/local-cluster.js';

async function health(s: ServerHandle): Promise<{ status: string; info?: { cluster?: { message?: string } }; details?: { cluster?: { message?: string } } } | undefined> {
  try {
    return (await (await fetch(`${s.baseUrl}health`, { signal: AbortSignal.timeout(2000) })).json()) as never;
  } catch {
    return undefined;
  }
}

describe('DNS discovery between real servers', () => {
  let h: DnsHarness;
  beforeEach(async () => {
    h = await new DnsHarness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('bootstraps from A records alone; health is up; the seeds are logged', async () => {
    const hosts = hostsOf(4, 3);
    const port = await freePortOn(hosts);
    h.dns.set('boot.cluster.test', { a: hosts });
    const servers = await h.group('boot', hosts, port, `dns://boot.cluster.test:${port}`);
    h.launch(servers);
    await h.waitAgree('three servers found through DNS', servers, servers, Date.now(), 60_000);
    expect((await Promise.all(servers.map(health))).map((x) => x?.status)).toEqual(['ok', 'ok', 'ok']);
    expect(servers[0].output.join('\n')).toContain(`DNS discovery dns://boot.cluster.test:${port}: 3 seed(s) (3 new, 0 gone)`);
    expect(h.dns.queries).toEqual(expect.arrayContaining(['A boot.cluster.test', 'AAAA boot.cluster.test']));
  });

  it('bootstraps from SRV records alone (a port per server), leaving out a record whose target has no address', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    h.dns.set('_gossip._tcp.srv.cluster.test', {
      srv: [...ports.map((port, i) => ({ target: `node${i + 1}.srv.cluster.test`, port })), { target: 'gone.srv.cluster.test', port: 9 }],
    });
    ports.forEach((_, i) => h.dns.set(`node${i + 1}.srv.cluster.test`, { a: ['127.0.0.1'] }));
    const servers: ServerHandle[] = [];
    for (const [i, port] of ports.entries()) {
      servers.push(await h.cluster.add(`srv${i + 1}`, { port, env: { SHAZBOT_MASTER_LIST: 'dns+srv://_gossip._tcp.srv.cluster.test', SHAZBOT_DNS_SERVERS: h.dns.endpoint } }));
    }
    h.launch(servers);
    await h.waitAgree('three servers found through SRV', servers, servers, Date.now(), 60_000);
    expect(servers[0].output.join('\n')).toContain('DNS discovery dns+srv://_gossip._tcp.srv.cluster.test: records left out: SRV target gone.srv.cluster.test: gone.srv.cluster.test: no such name (NXDOMAIN)');
  });

  it('two clusters started apart merge once their records list every server', async () => {
    const { ms } = await twoClustersMerge(h);
    process.stdout.write(`\n[dns] two clusters of 3 started apart: after every DNS record changed, all servers agree within ${inIntervals(ms)}\n`);
  });

  it('a fleet whose records are all replaced by new servers reconverges without restarts', async () => {
    const { mergedMs, oldGoneMs } = await recordsReplaced(h);
    process.stdout.write(`\n[dns] every record replaced: old and new agree within ${inIntervals(mergedMs)} of the new servers answering; with the old ones stopped, the new agree within ${(oldGoneMs / 1000).toFixed(2)} s\n`);
  });
});
