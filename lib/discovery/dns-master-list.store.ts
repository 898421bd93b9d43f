import type { ServerList } from '../core/types.js';
import type { MasterListStore } from '../master-list/master-list-store.interface.js';
import type { DnsDiscoveryService } from './dns-discovery.service.js';

/**
 * The master-list store of a `dns://` or `dns+srv://` URL: `load()` gives the seeds DNS names
 * as stamp-0 entries (known addresses that claim no state, as in a hand-written list file); the
 * discovery service keeps them current afterwards. Nothing is ever uploaded to DNS.
 */
export class DnsMasterListStore implements MasterListStore {
  constructor(private readonly discovery: DnsDiscoveryService) {}

  async load(): Promise<ServerList> {
    const seeds = await this.discovery.seeds();
    return { online: seeds.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: 0 })), offline: [] };
  }
}
