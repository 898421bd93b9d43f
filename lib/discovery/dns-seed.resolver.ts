import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DnsDiscoveryTarget } from './dns-discovery-target.js';

/** One resolution: the seeds' base URLs, sorted, and the smallest TTL among the records used. */
export interface ResolvedSeeds {
  seeds: string[];
  /** Seconds; undefined when no record gave one (Node's resolver does not expose SRV TTLs). */
  ttlSeconds?: number;
  /** Records left out, each with why (an SRV target without addresses...), for the log. */
  skipped: string[];
}

/** A failed resolution, with a code an operator recognises (NXDOMAIN, NODATA, TIMEOUT, SERVFAIL...). */
export class DnsResolutionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DnsResolutionError';
  }
}

/** SRV targets whose addresses are looked up at once. */
const TARGET_CONCURRENCY = 16;

/** c-ares codes as DNS speaks of them. */
function dnsCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'ERROR';
  return ({ ENOTFOUND: 'NXDOMAIN', ENODATA: 'NODATA', ETIMEOUT: 'TIMEOUT', ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', ECONNREFUSED: 'REFUSED', ECANCELLED: 'TIMEOUT' } as Record<string, string>)[code] ?? code;
}

/** NXDOMAIN's wording; a name without dots gets the likely cause (Node's resolver applies no resolv.conf search domains). */
function noSuchName(name: string): string {
  return name.includes('.') ? 'no such name' : 'no such name; Node\'s resolver applies no search domains: give the fully qualified name';
}

function seedUrl(scheme: string, address: string, port: number): string {
  return `${scheme}://${isIP(address) === 6 ? `[${address}]` : address}:${port}/`;
}

/**
 * Resolves a discovery target with Node's own DNS client (c-ares through `dns.promises.Resolver`,
 * not the system's getaddrinfo, whose answers carry no TTL and may be cached by the C library),
 * against the configured servers or the system's (`/etc/resolv.conf`). Every resolution is
 * bounded by `timeoutMs`, after which its queries are cancelled.
 */
export class DnsSeedResolver {
  private readonly resolver: Resolver;

  constructor(private readonly settings: { servers?: readonly string[]; timeoutMs: number }) {
    // two tries of half the budget each; the deadline below bounds what c-ares' backoff would add
    this.resolver = new Resolver({ timeout: Math.max(50, Math.floor(settings.timeoutMs / 2)), tries: 2 });
    if (settings.servers?.length) this.resolver.setServers([...settings.servers]);
  }

  /** The servers asked, as `address:port` (the system's when none were configured). */
  servers(): string[] {
    return this.resolver.getServers();
  }

  /** @throws DnsResolutionError */
  async resolve(target: DnsDiscoveryTarget): Promise<ResolvedSeeds> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.resolver.cancel();
        reject(new DnsResolutionError('TIMEOUT', `no answer from ${this.servers().join(', ') || 'the system resolver'} within ${this.settings.timeoutMs} ms`));
      }, this.settings.timeoutMs);
    });
    try {
      return await Promise.race([target.kind === 'a' ? this.resolveAddresses(target) : this.resolveSrv(target), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every query under way (shutdown). */
  cancel(): void {
    this.resolver.cancel();
  }

  private async resolveAddresses(target: DnsDiscoveryTarget): Promise<ResolvedSeeds> {
    const { addresses, ttl } = await this.addressesOf(target.name);
    return { seeds: [...new Set(addresses.map((a) => seedUrl(target.scheme, a, target.port!)))].sort(), ttlSeconds: ttl, skipped: [] };
  }

  /** A and AAAA records of a name, asked together; one family missing is normal (NODATA). */
  private async addressesOf(name: string): Promise<{ addresses: string[]; ttl?: number }> {
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(name, { ttl: true }), this.resolver.resolve6(name, { ttl: true })]);
    const records = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (records.length) return { addresses: records.map((r) => r.address), ttl: Math.min(...records.map((r) => r.ttl)) };
    const codes = [v4, v6].map((r) => (r.status === 'rejected' ? dnsCode(r.reason) : 'NODATA'));
    // a real failure (timeout, SERVFAIL) before "no such name", before "no such records"
    const code = codes.find((c) => c !== 'NXDOMAIN' && c !== 'NODATA') ?? (codes.includes('NXDOMAIN') ? 'NXDOMAIN' : 'NODATA');
    const why = code === 'NXDOMAIN' ? noSuchName(name) : code === 'NODATA' ? 'the name has no A or AAAA records' : 'query failed';
    throw new DnsResolutionError(code, `${name}: ${why} (${code})`);
  }

  private async resolveSrv(target: DnsDiscoveryTarget): Promise<ResolvedSeeds> {
    let records: { name: string; port: number }[];
    try {
      records = await this.resolver.resolveSrv(target.name);
    } catch (error) {
      const code = dnsCode(error);
      const why = code === 'NXDOMAIN' ? noSuchName(target.name) : code === 'NODATA' ? 'the name has no SRV records' : 'query failed';
      throw new DnsResolutionError(code, `${target.name}: ${why} (${code})`);
    }
    const skipped: string[] = [];
    // RFC 2782: a target of "." means the service is decidedly not available here
    const usable = records.filter((r) => {
      const ok = r.name !== '' && r.name !== '.' && r.port > 0;
      if (!ok) skipped.push(`SRV record "${r.name || '.'}:${r.port}" names no service`);
      return ok;
    });
    const byTarget = new Map<string, Set<number>>();
    for (const r of usable) byTarget.set(r.name.toLowerCase(), (byTarget.get(r.name.toLowerCase()) ?? new Set()).add(r.port));
    const seeds = new Set<string>();
    const ttls: number[] = [];
    const targets = [...byTarget.keys()];
    for (let i = 0; i < targets.length; i += TARGET_CONCURRENCY) {
      await Promise.all(
        targets.slice(i, i + TARGET_CONCURRENCY).map(async (host) => {
          let addresses: string[];
          if (isIP(host)) addresses = [host];
          else {
            try {
              const found = await this.addressesOf(host);
              addresses = found.addresses;
              if (found.ttl !== undefined) ttls.push(found.ttl);
            } catch (error) {
              skipped.push(`SRV target ${host}: ${(error as Error).message}`);
              return;
            }
          }
          for (const address of addresses) for (const port of byTarget.get(host)!) seeds.add(seedUrl(target.scheme, address, port));
        }),
      );
    }
    if (seeds.size === 0) {
      throw new DnsResolutionError(records.length ? 'BADRECORDS' : 'NODATA', `${target.name}: no SRV record led to an address${skipped.length ? ` (${skipped.slice(0, 3).join('; ')})` : ''}`);
    }
    return { seeds: [...seeds].sort(), ttlSeconds: ttls.length ? Math.min(...ttls) : undefined, skipped };
  }
}
