export { DnsDiscoveryService, type DiscoveryStatus } from './dns-discovery.service.js';
export { DnsMasterListStore } from './dns-master-list.store.js';
export { DnsSeedResolver, DnsResolutionError, type ResolvedSeeds } from './dns-seed.resolver.js';
export { parseDnsDiscoveryUrl, parseDnsServers, describeDnsTarget, isDnsDiscoveryUrl, type DnsDiscoveryTarget } from './dns-discovery-target.js';
