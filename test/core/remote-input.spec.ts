/**
 * The kind "warnings caused by remote input are rate-limited": whatever a peer sends that we
 * refuse (stamps from the future, state over our limits, another cluster), it can make us
 * write a few lines a minute at most; counters carry the rest. And what a peer sends is never
 * written raw into a log line.
 */
import { ClusterEngine, type GossipTransport } from '../../lib/core/index.js';

const T0 = 1_800_000_000_000;

function engineWithLog() {
  const lines: string[] = [];
  const clock = { now: T0 };
  const transport: GossipTransport = {
    exchange: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
    probe: () => Promise.reject(new Error('timed out')),
    sync: () => Promise.reject(Object.assign(new Error('HTTP 403'), { status: 403 })),
  };
  const engine = new ClusterEngine({ selfUrl: 'http://self.test:1/' }, { now: () => clock.now, random: () => 0.5, transport, log: { warn: (m) => lines.push(m), debug: () => undefined } });
  engine.start();
  engine.merge({ online: [{ baseUrl: 'http://peer.test:1/', monitor: false, lastUpdate: T0 }] }, 'test');
  return { engine, lines, clock };
}

describe('warnings caused by remote input', () => {
  it('594 messages of 1,000 entries stamped in the future: 594,000 refusals counted, a handful of lines a minute', () => {
    const { engine, lines, clock } = engineWithLog();
    for (let m = 0; m < 594; m++) {
      const online = Array.from({ length: 1000 }, (_, i) => ({ baseUrl: `http://f${i}.test:1/`, monitor: false, lastUpdate: T0 + 3_600_000 }));
      engine.merge({ online }, 'http://peer.test:1/');
      clock.now += 5000 / 594; // all within 5 s
    }
    expect(engine.stats().entriesRefused).toBe(594_000);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatch(/stamped \d+ ms in the future/);
    // a minute later, the next line says how many were left out
    clock.now += 60_000;
    engine.merge({ online: [{ baseUrl: 'http://f1.test:1/', monitor: false, lastUpdate: Math.floor(clock.now) + 3_600_000 }] }, 'http://peer.test:1/');
    expect(lines).toContain('(593997 more like the next line in the last minute were not logged)');
  });

  it('state over our limits: counted every time, written a few times a minute, the key escaped', () => {
    const { engine, lines } = engineWithLog();
    for (let m = 0; m < 1000; m++) {
      engine.mergeState([{ server: 'http://peer.test:1/', from: 0, to: T0, entries: [{ key: `k\ncontrol from 10.9.9.9: set offline ${'x'.repeat(200)}`, version: T0, value: 1 }] }], 'sync');
    }
    expect(engine.stats().entriesRefused).toBe(1000);
    expect(lines.length).toBeLessThanOrEqual(3);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('a thousand foreign servers (403): every one is dropped, a few lines a minute', async () => {
    const { engine, lines } = engineWithLog();
    for (let i = 0; i < 1000; i++) await engine.syncWith(`http://foreign-${i}.test:1/`);
    expect(engine.stats().exchangesFailed).toBe(1000);
    expect(lines.length).toBeLessThanOrEqual(3);
  });
});
