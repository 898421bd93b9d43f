/**
 * What the engine tells the diagnostics about peers that refuse it: a 401 (they refuse this
 * server's signature: another secret, or a clock off by more than the window) within a time
 * window, and a 403 (they belong to another cluster) while the mark lasts. A real engine with a
 * transport whose peers answer those statuses, as the HTTP transport reports them.
 */
import { ClusterEngine, type GossipTransport } from '../../lib/core/index.js';

const T0 = 1_800_000_000_000;
const SELF = 'http://self.test:1/';
const REFUSING = 'http://refusing.test:1/';
const FOREIGN = 'http://foreign.test:1/';
const answer = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

function engineWith(statusOf: (peer: string) => number) {
  const clock = { now: T0 };
  const fail = async (peer: string): Promise<never> => {
    throw answer(statusOf(peer));
  };
  const transport: GossipTransport = { exchange: fail, probe: fail, sync: fail };
  const warnings: string[] = [];
  const engine = new ClusterEngine(
    { selfUrl: SELF, probeIntervalMs: 0, offlineProbeProbability: 0 },
    { now: () => clock.now, random: () => 0.5, transport, log: { warn: (m) => warnings.push(m), debug: () => {} } },
  );
  engine.start();
  return { engine, clock, warnings };
}

describe('peers that refuse this server', () => {
  it('a peer answering 401 is listed as refusing our signature for the window asked, then no longer', async () => {
    const { engine, clock, warnings } = engineWith(() => 401);
    expect(engine.peersRefusingSignature(60_000)).toEqual([]);
    await engine.syncWith(REFUSING);
    expect(engine.peersRefusingSignature(60_000)).toEqual([REFUSING]);
    expect(engine.peersOfAnotherCluster()).toEqual([]);
    expect(warnings.filter((w) => w.includes('answered 401'))).toHaveLength(1);
    clock.now += 60_000; // exactly the window: still listed
    expect(engine.peersRefusingSignature(60_000)).toEqual([REFUSING]);
    clock.now += 1;
    expect(engine.peersRefusingSignature(60_000)).toEqual([]);
    expect(engine.peersRefusingSignature(60_001)).toEqual([REFUSING]);
  });

  it('a peer answering 403 is listed as another cluster\'s, not as refusing our signature', async () => {
    const { engine } = engineWith((peer) => (peer === FOREIGN ? 403 : 401));
    await engine.syncWith(FOREIGN);
    expect(engine.peersOfAnotherCluster()).toEqual([FOREIGN]);
    expect(engine.peersRefusingSignature(60_000)).toEqual([]);
  });
});
