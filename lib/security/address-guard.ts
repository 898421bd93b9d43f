import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Which peer addresses this server accepts into its view and will connect to.
 *
 * - Always refused unless an allow-list entry names them explicitly: link-local addresses
 *   (169.254.0.0/16, fe80::/10, where cloud metadata services live), other metadata
 *   addresses (100.100.100.200, fd00:ec2::254) and names (metadata.google.internal,
 *   metadata.goog), 0.0.0.0/8, multicast and broadcast.
 * - With an allow-list (`allowedPeers`, SHAZBOT_ALLOWED_PEERS), only matching addresses:
 *   `10.0.0.0/8`, `10.0.0.5`, `10.0.0.0/8:3000`, `[fd00::/8]:3000`, `app-3.internal:8443`,
 *   `*.internal` (a port, when given, must match too).
 *
 * The check runs on every base URL that enters the view; on every URL the transport is about
 * to contact, whatever asked for it (an indirect probe's target, a seed, a gossip entry),
 * literal IP addresses included; and on the address a name resolves to when connecting, so a
 * name cannot point a server at a refused address either.
 */
export class AddressGuard {
  private readonly blocked = new BlockList();
  private readonly blockedNames = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);
  private readonly cidrs: { list: BlockList; port?: number }[] = [];
  private readonly names: { pattern: string; port?: number }[] = [];

  constructor(readonly allowedPeers: readonly string[] = []) {
    this.blocked.addSubnet('169.254.0.0', 16, 'ipv4');
    this.blocked.addSubnet('0.0.0.0', 8, 'ipv4');
    this.blocked.addSubnet('224.0.0.0', 4, 'ipv4');
    this.blocked.addAddress('255.255.255.255', 'ipv4');
    this.blocked.addAddress('100.100.100.200', 'ipv4');
    this.blocked.addSubnet('fe80::', 10, 'ipv6');
    this.blocked.addSubnet('ff00::', 8, 'ipv6');
    this.blocked.addAddress('fd00:ec2::254', 'ipv6');
    for (const raw of allowedPeers) this.addAllowed(raw.trim());
  }

  /** Parses one allow-list entry; throws with a clear message when it is not one of the forms above. */
  private addAllowed(raw: string): void {
    // `[v6 or v6/prefix]:port`; one colon: `host:port`; otherwise no port (bare IPv6 has several colons)
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(raw);
    const colons = raw.split(':').length - 1;
    const [target, portText] = bracketed ? [bracketed[1], bracketed[2]] : colons === 1 ? raw.split(':') : [raw, undefined];
    const port = portText === undefined ? undefined : Number(portText);
    if (!target || (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))) {
      throw new Error(`allowed peer "${raw}" is not a CIDR, address or host name, with an optional :port`);
    }
    const [address, prefix] = target.split('/');
    const family = isIP(address);
    if (family) {
      const list = new BlockList();
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else {
        const bits = Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) throw new Error(`allowed peer "${raw}" has an invalid prefix length`);
        list.addSubnet(address, bits, type);
      }
      this.cidrs.push({ list, port });
      return;
    }
    if (!/^(\*\.)?[a-z0-9.-]+$/i.test(target)) throw new Error(`allowed peer "${raw}" is not a CIDR, address or host name, with an optional :port`);
    this.names.push({ pattern: target.toLowerCase(), port });
  }

  private allowedIp(ip: string, port: number | undefined): boolean {
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    return this.cidrs.some((c) => c.list.check(ip, type) && (c.port === undefined || port === undefined || c.port === port));
  }

  /** True when a peer base URL may enter the view and be contacted. */
  acceptsUrl(baseUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (isIP(host)) {
      const type = isIP(host) === 6 ? 'ipv6' : 'ipv4';
      if (this.blocked.check(host, type)) return this.allowedIp(host, port);
      return this.allowedPeers.length === 0 || this.allowedIp(host, port);
    }
    const named = this.names.some((n) => (n.pattern.startsWith('*.') ? host.endsWith(n.pattern.slice(1)) : host === n.pattern) && (n.port === undefined || n.port === port));
    if (this.blockedNames.has(host)) return named;
    return this.allowedPeers.length === 0 || named;
  }

  /** A `lookup` for http(s) agents: refuses names that resolve to a refused address. */
  readonly lookup = (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const ok = (addresses as LookupAddress[]).filter((a) => this.blocked.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4') === false || this.allowedIp(a.address, undefined));
      if (ok.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to an address the address guard refuses`), { code: 'EADDRREFUSED' });
        return callback(refused, '');
      }
      if (options.all) return callback(null, ok);
      callback(null, ok[0].address, ok[0].family);
    });
  };
}
