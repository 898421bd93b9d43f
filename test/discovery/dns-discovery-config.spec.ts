/** dns:// and dns+srv:// URLs and SHAZBOT_DNS_SERVERS: parsed at start-up, errors naming the variable. */
import { ClustershazbotConfigError, resolveClusterConfig } from '../../lib/index.js';
import { parseDnsDiscoveryUrl, parseDnsServers } from '../../lib/discovery/dns-discovery-target.js';

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const REQUIRED = { SHAZBOT_SECRET: 's1', SHAZBOT_CONTROL_SECRET: 'c1', SHAZBOT_BASE_URL: 'http://10.0.0.5:3000/' };

describe('DNS discovery URLs', () => {
  it.each([
    ['dns://seeds.default.svc.cluster.local:3000', { kind: 'a', name: 'seeds.default.svc.cluster.local', port: 3000, scheme: 'http' }],
    ['DNS://Seeds.Example.:8443?scheme=https', { kind: 'a', name: 'seeds.example', port: 8443, scheme: 'https' }],
    ['dns+srv://_gossip._tcp.seeds.default.svc.cluster.local', { kind: 'srv', name: '_gossip._tcp.seeds.default.svc.cluster.local', scheme: 'http' }],
    ['dns+srv://_gossip._tcp.seeds.example/', { kind: 'srv', name: '_gossip._tcp.seeds.example', scheme: 'http' }],
  ])('parses %s', (url, expected) => {
    expect(parseDnsDiscoveryUrl(url)).toEqual(expected);
  });

  it.each([
    ['dns://seeds.example', "needs the seeds' port, as dns://name:port"],
    ['dns://seeds.example:0', "needs the seeds' port, as dns://name:port"],
    ['dns://seeds.example:3000/path', 'must not have a path (got "/path")'],
    ['dns://user:pw@seeds.example:3000', 'must not hold credentials'],
    ['dns://seeds.example:3000?scheme=ftp', 'scheme must be http or https, got "ftp"'],
    ['dns://seeds.example:3000?ttl=5', 'has unknown parameter(s) ttl (only ?scheme=http|https)'],
    ['dns://10.0.0.1:3000', 'names an address, not a DNS name (list addresses in a master-list file instead)'],
    ['dns://bad_label-.example:3000', 'has an invalid DNS name "bad_label-.example"'],
    ['dns+srv://seeds.example', 'must name an SRV record as _service._tcp.name, got "seeds.example"'],
    ['dns+srv://_gossip._tcp.seeds.example:3000', "must not have a port (SRV records carry each seed's port)"],
    ['dns:', 'names no host (expected dns://name:port or dns+srv://_service._proto.name)'],
    ['dns://[::1:3000', 'is not a URL (expected dns://name:port or dns+srv://_service._proto.name)'],
  ])('refuses %s: %s', (url, reason) => {
    expect(() => parseDnsDiscoveryUrl(url)).toThrow(reason);
  });

  it('parses DNS server lists: address, address:port, [ipv6]:port', () => {
    expect(parseDnsServers('127.0.0.53, 10.96.0.10:53,[::1]:5353, ::1')).toEqual(['127.0.0.53', '10.96.0.10:53', '[::1]:5353', '::1']);
    expect(() => parseDnsServers('dns.google')).toThrow('"dns.google" is not an address, address:port or [ipv6]:port');
    expect(() => parseDnsServers('10.0.0.1:99999')).toThrow('"10.0.0.1:99999" is not an address');
  });
});

describe('configuration of DNS discovery', () => {
  it('accepts dns:// in SHAZBOT_MASTER_LIST, with servers and refresh from their variables', () => {
    const config = resolveClusterConfig({}, env({ ...REQUIRED, SHAZBOT_MASTER_LIST: 'dns://seeds.default.svc:3000', SHAZBOT_DNS_SERVERS: '10.96.0.10', SHAZBOT_DNS_REFRESH: '10' }), 'p');
    expect(config).toMatchObject({ masterListUrl: 'dns://seeds.default.svc:3000', discovery: { kind: 'a', name: 'seeds.default.svc', port: 3000 }, dnsServers: ['10.96.0.10'], dnsRefreshMs: 10_000 });
    const defaults = resolveClusterConfig({}, env({ ...REQUIRED, SHAZBOT_MASTER_LIST: 'file:///tmp/x.json' }), 'p');
    expect(defaults).toMatchObject({ discovery: undefined, dnsServers: [], dnsRefreshMs: 30_000, metrics: undefined });
  });

  it.each([
    [{ SHAZBOT_MASTER_LIST: 'dns://seeds.example' }, "clustershazbot: SHAZBOT_MASTER_LIST needs the seeds' port, as dns://name:port (option masterListUrl)"],
    [{ SHAZBOT_MASTER_LIST: 'dns+srv://seeds.example' }, 'clustershazbot: SHAZBOT_MASTER_LIST must name an SRV record as _service._tcp.name, got "seeds.example" (option masterListUrl)'],
    [{ SHAZBOT_MASTER_LIST: 'ftp://seeds.example/list' }, 'clustershazbot: SHAZBOT_MASTER_LIST must be an http://, https:// or file:// URL, or dns://name:port or dns+srv://_service._proto.name (value not shown: it may hold a token) (option masterListUrl)'],
    [{ SHAZBOT_MASTER_LIST: 'dns://seeds.example:3000', SHAZBOT_MASTER_LIST_UPDATE: 'file:///tmp/list.json' }, 'clustershazbot: SHAZBOT_MASTER_LIST_UPDATE cannot be used when SHAZBOT_MASTER_LIST is a dns:// or dns+srv:// URL (DNS is read-only: unset SHAZBOT_MASTER_LIST_UPDATE) (option masterListUpdateUrl)'],
    [{ SHAZBOT_MASTER_LIST: 'dns://seeds.example:3000', SHAZBOT_DNS_SERVERS: 'resolver.local' }, 'clustershazbot: SHAZBOT_DNS_SERVERS: "resolver.local" is not an address, address:port or [ipv6]:port (option dnsServers)'],
    [{ SHAZBOT_MASTER_LIST: 'dns://seeds.example:3000', SHAZBOT_DNS_REFRESH: '0' }, 'clustershazbot: SHAZBOT_DNS_REFRESH must be a number from 1 to 86400, got "0" (option dnsRefreshSeconds)'],
    [{ SHAZBOT_MASTER_LIST: 'file:///tmp/x.json', SHAZBOT_METRICS: 'maybe' }, 'clustershazbot: SHAZBOT_METRICS must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe" (option metrics)'],
  ])('fails start-up on %j', (vars, message) => {
    expect(() => resolveClusterConfig({}, env({ ...REQUIRED, ...vars }), 'p')).toThrow(new ClustershazbotConfigError(message));
  });

  it('takes the options too: dnsServers as an array, metrics as a registry-shaped object or a boolean', () => {
    const registry = { getSingleMetric: () => undefined, registerMetric: () => undefined, metrics: async () => '', contentType: 'text/plain' };
    const config = resolveClusterConfig({ masterListUrl: 'dns+srv://_g._tcp.example', dnsServers: ['[::1]:5353'], metrics: registry }, env(REQUIRED), 'p');
    expect(config.dnsServers).toEqual(['[::1]:5353']);
    expect(config.metrics).toBe(registry);
    expect(resolveClusterConfig({ masterListUrl: 'file:///x', metrics: true }, env(REQUIRED), 'p').metrics).toBe(true);
    expect(resolveClusterConfig({ masterListUrl: 'file:///x', metrics: false }, env({ ...REQUIRED, SHAZBOT_METRICS: 'true' }), 'p').metrics).toBeUndefined();
    expect(() => resolveClusterConfig({ masterListUrl: 'file:///x', metrics: {} as never }, env(REQUIRED), 'p')).toThrow('clustershazbot: option metrics must be a prom-client Registry, true (the global registry) or false');
  });
});
