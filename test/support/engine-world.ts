/**
 * A real ClusterEngine with no network, whose view a test shapes with the words peers would
 * gossip (joined, suspected, declared offline, left), on a manual clock. Shared by the
 * coordination suites (key ownership, quorum, singleton coordinator).
 */
import { ClusterEngine, type GossipServer, type GossipTransport } from '../../lib/core/index.js';

export const T0 = 1_800_000_000_000;
export const SELF = 'http://self:1/';
/** The declarer a suspicion or failure names when a test does not say. */
export const DECLARER = 'http://q:1/';

const offline: GossipTransport = {
  exchange: () => Promise.reject(new Error('no network in this test')),
  probe: () => Promise.reject(new Error('no network in this test')),
  sync: () => Promise.reject(new Error('no network in this test')),
};

export function world() {
  const clock = { now: T0 };
  const engine = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0 }, { now: () => clock.now, random: () => 0.5, transport: offline });
  engine.start();
  let stamp = T0;
  const word = (baseUrl: string, extra: Partial<GossipServer> = {}) => ({ baseUrl, monitor: false, lastUpdate: ++stamp, ...extra });
  const peer = {
    join: (url: string) => engine.merge({ online: [word(url)] }, 'test'),
    suspect: (url: string, by = DECLARER) => engine.merge({ online: [], suspect: [word(url, { by })] }, 'test'),
    fail: (url: string, by = DECLARER) => engine.merge({ online: [], offline: [word(url, { by })] }, 'test'),
    leave: (url: string) => engine.merge({ online: [], offline: [word(url)] }, 'test'),
  };
  return { clock, engine, peer };
}
