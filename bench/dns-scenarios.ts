/**
 * DNS discovery scenarios with real server processes on 127.0.0.x and a DNS server on
 * loopback (sample/local-dns.ts): used by test/cluster/dns-discovery.spec.ts and by
 * `npm run bench:dns`, which prints the figures. Timings are reported in the protocol's own
 * units: re-resolution intervals and gossip rounds.
 */
import { freePortOn, LocalCluster, type ServerHandle } from '../sample/local-cluster.js';
import { LocalDns } from '../sample/local-dns.js';

/** Re-resolution interval of these scenarios (SHAZBOT_DNS_REFRESH), seconds; records carry TTL 1 s too. */
export const DNS_REFRESH_SECONDS = 1;
/** Gossip round interval (LocalCluster's SHAZBOT_GOSSIP_INTERVAL), seconds. */
export const ROUND_SECONDS = 0.5;

export const hostsOf = (third: number, count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.${third}.${11 + i}`);

/** A time as re-resolution intervals and gossip rounds: `2.3 s = 1 re-resolution (1 s) + 2.6 rounds (0.5 s)`. */
export function inIntervals(ms: number): string {
  const refresh = DNS_REFRESH_SECONDS * 1000;
  if (ms <= refresh) return `${(ms / 1000).toFixed(2)} s (within one re-resolution interval of ${DNS_REFRESH_SECONDS} s)`;
  const rounds = (ms - refresh) / (ROUND_SECONDS * 1000);
  return `${(ms / 1000).toFixed(2)} s = 1 re-resolution interval (${DNS_REFRESH_SECONDS} s) + ${rounds.toFixed(1)} gossip rounds (${ROUND_SECONDS} s)`;
}

export class DnsHarness {
  readonly dns = new LocalDns();
  readonly cluster = new LocalCluster({ SHAZBOT_DNS_REFRESH: String(DNS_REFRESH_SECONDS) });

  async start(): Promise<this> {
    await this.dns.start('127.0.0.1');
    return this;
  }

  /** Servers on `hosts`, all on `port`, finding each other through `masterList` (a dns:// or dns+srv:// URL). */
  async group(prefix: string, hosts: string[], port: number, masterList: string, env: Record<string, string> = {}): Promise<ServerHandle[]> {
    const servers: ServerHandle[] = [];
    for (const [i, host] of hosts.entries()) {
      servers.push(await this.cluster.add(`${prefix}${i + 1}`, { host, port, env: { SHAZBOT_MASTER_LIST: masterList, SHAZBOT_DNS_SERVERS: this.dns.endpoint, ...env } }));
    }
    return servers;
  }

  launch(servers: ServerHandle[]): void {
    for (const s of servers) this.cluster.start(s);
  }

  /** Each server's online base URLs, sorted (undefined: no answer). */
  async onlineSets(servers: ServerHandle[]): Promise<(string[] | undefined)[]> {
    return Promise.all(servers.map(async (s) => (await this.cluster.list(s, 1000))?.online.map((e) => e.baseUrl).sort()));
  }

  /** Waits until every one of `servers` lists exactly `expected` online; ms from `since`. Throws on timeout, naming what each saw. */
  async waitAgree(what: string, servers: ServerHandle[], expected: ServerHandle[], since: number, timeoutMs = 30_000): Promise<number> {
    const want = JSON.stringify(expected.map((s) => s.baseUrl).sort());
    await this.cluster.waitFor(what, () => this.onlineSets(servers), (sets) => sets.every((set) => JSON.stringify(set) === want), timeoutMs, 100);
    return Date.now() - since;
  }

  async stop(): Promise<void> {
    await this.cluster.stopAll();
    await this.dns.stop();
  }
}

/**
 * Two clusters started apart (each its own DNS name) until both names list every server: they
 * merge through re-resolution alone. Returns ms from the record change to agreement.
 */
export async function twoClustersMerge(h: DnsHarness, size = 3): Promise<{ ms: number }> {
  const [hostsA, hostsB] = [hostsOf(0, size), hostsOf(1, size)];
  const port = await freePortOn([...hostsA, ...hostsB]);
  h.dns.set('a.cluster.test', { a: hostsA });
  h.dns.set('b.cluster.test', { a: hostsB });
  const a = await h.group('a', hostsA, port, `dns://a.cluster.test:${port}`);
  const b = await h.group('b', hostsB, port, `dns://b.cluster.test:${port}`);
  h.launch([...a, ...b]);
  await h.waitAgree('cluster a on its own', a, a, Date.now(), 60_000);
  await h.waitAgree('cluster b on its own', b, b, Date.now(), 60_000);
  const changed = Date.now();
  h.dns.set('a.cluster.test', { a: [...hostsA, ...hostsB] });
  h.dns.set('b.cluster.test', { a: [...hostsA, ...hostsB] });
  return { ms: await h.waitAgree('both clusters merged', [...a, ...b], [...a, ...b], changed) };
}

/**
 * Every record replaced: a running fleet's name starts listing only new servers on new
 * addresses. The old servers find the new ones by re-resolving; all agree on old and new; then
 * the old ones stop and the new ones agree on themselves. Times are from the moment every new
 * server answers (their start-up is not the protocol's).
 */
export async function recordsReplaced(h: DnsHarness, size = 3): Promise<{ mergedMs: number; oldGoneMs: number }> {
  const [oldHosts, newHosts] = [hostsOf(2, size), hostsOf(3, size)];
  const port = await freePortOn([...oldHosts, ...newHosts]);
  h.dns.set('fleet.cluster.test', { a: oldHosts });
  const old = await h.group('old', oldHosts, port, `dns://fleet.cluster.test:${port}`);
  h.launch(old);
  await h.waitAgree('the old fleet', old, old, Date.now(), 60_000);
  h.dns.set('fleet.cluster.test', { a: newHosts });
  const fresh = await h.group('new', newHosts, port, `dns://fleet.cluster.test:${port}`);
  h.launch(fresh);
  await h.cluster.waitFor('the new servers to answer', () => h.onlineSets(fresh), (sets) => sets.every((s) => s !== undefined), 60_000, 100);
  const answering = Date.now();
  const mergedMs = await h.waitAgree('old and new servers agree', [...old, ...fresh], [...old, ...fresh], answering);
  const stopping = Date.now();
  await Promise.all(old.map((s) => h.cluster.signal(s, 'SIGTERM')));
  const oldGoneMs = await h.waitAgree('the new fleet alone', fresh, fresh, stopping);
  return { mergedMs, oldGoneMs };
}
