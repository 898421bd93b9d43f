import type { ServerList } from '../core/types.js';

/**
 * Where the master list lives. Replace it through the `masterListStore` option (a database,
 * an object store...). `load` rejects when the list is unreachable or invalid; the module then
 * starts anyway, retries with backoff and reports degraded health.
 */
export interface MasterListStore {
  load(): Promise<ServerList>;
  /** Uploads the merged list. Absent: this server never announces. */
  save?(list: ServerList): Promise<void>;
}
