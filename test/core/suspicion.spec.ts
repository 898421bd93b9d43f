import { FlapDamper, suspicionTimeoutMs } from '../../lib/core/suspicion.js';

describe('FlapDamper (per-server transition penalty)', () => {
  it('adds 1 per transition and halves every half-life', () => {
    const flaps = new FlapDamper(60_000, 3);
    flaps.record('a', 0);
    flaps.record('a', 0);
    expect(flaps.penalty('a', 0)).toBe(2);
    expect(flaps.penalty('a', 60_000)).toBeCloseTo(1, 10);
    expect(flaps.penalty('a', 120_000)).toBeCloseTo(0.5, 10);
    expect(flaps.penalty('b', 0)).toBe(0);
  });

  it('stretches the suspicion timeout only above the threshold, by 1 + penalty − threshold', () => {
    const flaps = new FlapDamper(60_000, 3);
    for (let i = 0; i < 3; i++) flaps.record('a', 0);
    expect(flaps.factor('a', 0)).toBe(1);
    flaps.record('a', 0);
    flaps.record('a', 0);
    expect(flaps.factor('a', 0)).toBe(3);
  });

  it('forgets a server on request, and sweeps decayed penalties once the map grows', () => {
    const flaps = new FlapDamper(1000, 3);
    flaps.record('a', 0);
    flaps.forget('a');
    expect(flaps.penalty('a', 0)).toBe(0);
    for (let i = 0; i < 63; i++) flaps.record(`old-${i}`, 0);
    // an hour later every old penalty has decayed to nothing: the 64th record sweeps them
    flaps.record('new', 3_600_000);
    expect(flaps.penalty('new', 3_600_000)).toBe(1);
    expect(flaps.penalty('old-0', 3_600_000)).toBe(0);
  });
});

describe('suspicionTimeoutMs (Lifeguard)', () => {
  const base = { probeIntervalMs: 1000, suspicionMult: 4, suspicionMaxMult: 6, expectedConfirmations: 3 };

  it('is 4 · max(1, log10 N) intervals at its minimum, floored at N = 10 and below', () => {
    for (const n of [1, 2, 5, 10]) expect(suspicionTimeoutMs({ ...base, clusterSize: n, confirmations: 3 })).toBe(4000);
    expect(suspicionTimeoutMs({ ...base, clusterSize: 100, confirmations: 3 })).toBe(8000);
    expect(suspicionTimeoutMs({ ...base, clusterSize: 10_000, confirmations: 3 })).toBe(16_000);
  });

  it('starts at 6× the minimum and shrinks with the logarithm of the confirmations', () => {
    const at = (confirmations: number, clusterSize = 10) => suspicionTimeoutMs({ ...base, clusterSize, confirmations });
    expect(at(0)).toBe(24_000);
    // max − (max − min) · log(c + 1) / log(4)
    expect(at(1)).toBe(Math.floor(24_000 - 20_000 * (Math.log(2) / Math.log(4))));
    expect(at(1)).toBe(14_000);
    expect(at(2)).toBe(Math.floor(24_000 - 20_000 * (Math.log(3) / Math.log(4))));
    expect(at(3)).toBe(4000);
    for (let c = 4; c <= 10; c++) expect(at(c)).toBe(4000);
    expect(at(0, 1000)).toBe(72_000);
    expect(at(1, 1000)).toBe(Math.floor(72_000 - 60_000 * 0.5));
  });

  it('waits for no confirmations when none can come', () => {
    expect(suspicionTimeoutMs({ ...base, expectedConfirmations: 0, clusterSize: 10, confirmations: 0 })).toBe(4000);
  });
});
