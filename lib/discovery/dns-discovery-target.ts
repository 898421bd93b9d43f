import { isIP } from 'node:net';

/**
 * Where seeds come from when `SHAZBOT_MASTER_LIST` names DNS instead of a document:
 * - `dns://name:port`: every A and AAAA record of `name` is a seed `http://address:port/`
 *   (a Kubernetes headless Service, a Consul or Route 53 name);
 * - `dns+srv://_service._proto.name`: every SRV record is a seed `http://address:port/`, the
 *   target's A and AAAA records giving the addresses (RFC 2782).
 * `?scheme=https` makes the seeds `https://` (peers behind TLS).
 */
export interface DnsDiscoveryTarget {
  kind: 'a' | 'srv';
  /** The name queried, lower case, without a trailing dot. */
  name: string;
  /** The seeds' port (`dns://` only; SRV records carry their own). */
  port?: number;
  scheme: 'http' | 'https';
}

/** Whether a master-list URL names DNS discovery (`dns:` or `dns+srv:`), before it is parsed. */
export function isDnsDiscoveryUrl(raw: string): boolean {
  return /^dns(\+srv)?:/i.test(raw.trim());
}

/** An RFC 1123 host name of labels up to 63 characters (underscores allowed: SRV names start with them). */
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function validName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

/**
 * Parses a `dns://` or `dns+srv://` URL.
 * @throws Error with a message saying what is wrong (the caller adds the variable's name).
 */
export function parseDnsDiscoveryUrl(raw: string): DnsDiscoveryTarget {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error('is not a URL (expected dns://name:port or dns+srv://_service._proto.name)');
  }
  const kind = url.protocol === 'dns:' ? 'a' : url.protocol === 'dns+srv:' ? 'srv' : undefined;
  if (!kind) throw new Error('must start with dns:// or dns+srv://');
  if (url.username || url.password) throw new Error('must not hold credentials');
  if (url.pathname && url.pathname !== '/') throw new Error(`must not have a path (got "${url.pathname}")`);
  if (url.hash) throw new Error('must not have a fragment');
  const params = [...url.searchParams.keys()];
  const unknown = params.filter((p) => p !== 'scheme');
  if (unknown.length) throw new Error(`has unknown parameter(s) ${unknown.join(', ')} (only ?scheme=http|https)`);
  const scheme = url.searchParams.get('scheme') ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`scheme must be http or https, got "${scheme}"`);
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (!name) throw new Error('names no host (expected dns://name:port or dns+srv://_service._proto.name)');
  if (isIP(name.replace(/^\[|\]$/g, ''))) throw new Error('names an address, not a DNS name (list addresses in a master-list file instead)');
  if (!validName(name)) throw new Error(`has an invalid DNS name "${name.slice(0, 80)}"`);
  if (kind === 'srv') {
    if (url.port) throw new Error('must not have a port (SRV records carry each seed\'s port)');
    if (!/^_[^.]+\._(tcp|udp)\./.test(name)) throw new Error(`must name an SRV record as _service._tcp.name, got "${name.slice(0, 80)}"`);
    return { kind, name, scheme };
  }
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error('needs the seeds\' port, as dns://name:port');
  return { kind, name, port, scheme };
}

/** The URL as it names the target, for log lines and status: never anything but scheme, name and port. */
export function describeDnsTarget(target: DnsDiscoveryTarget): string {
  const query = target.scheme === 'https' ? '?scheme=https' : '';
  return target.kind === 'a' ? `dns://${target.name}:${target.port}${query}` : `dns+srv://${target.name}${query}`;
}

/**
 * Parses `SHAZBOT_DNS_SERVERS`: comma-separated `address`, `address:port` or `[ipv6]:port`, as
 * `dns.Resolver.setServers` takes them.
 * @throws Error naming the entry that is wrong.
 */
export function parseDnsServers(raw: string | readonly string[]): string[] {
  const entries = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((s) => String(s).trim()).filter(Boolean);
  for (const entry of entries) {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const hostPort = /^([^:]+):(\d+)$/.exec(entry);
    const [address, port] = bracketed ? [bracketed[1], bracketed[2]] : hostPort ? [hostPort[1], hostPort[2]] : [entry, undefined];
    const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
    if (!isIP(address) || !portOk) throw new Error(`"${entry.slice(0, 80)}" is not an address, address:port or [ipv6]:port`);
  }
  return entries;
}
