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

  it('sweeps only when the map reaches 64 records: a decayed penalty is still read before that', () => {
    const flaps = new FlapDamper(1000, 3);
    flaps.record('a', 0);
    // eight half-lives later, below the sweep's 0.01, but only 2 records: no sweep
    flaps.record('b', 8000);
    expect(flaps.penalty('a', 8000)).toBe(1 / 256);
  });

  it('the 64th record sweeps every penalty below 0.01 (eight half-lives old), keeping live ones', () => {
    const flaps = new FlapDamper(1000, 3);
    for (let i = 0; i < 62; i++) flaps.record(`old-${i}`, 0);
    flaps.record('recent', 7000);
    expect(flaps.penalty('old-0', 8000)).toBe(1 / 256);
    flaps.record('new', 8000); // the 64th record
    expect(flaps.penalty('old-0', 8000)).toBe(0);
    expect(flaps.penalty('old-61', 8000)).toBe(0);
    expect(flaps.penalty('recent', 8000)).toBe(0.5);
    expect(flaps.penalty('new', 8000)).toBe(1);
  });

  it('a penalty of exactly 0.01 survives the sweep: only one below it counts as decayed', () => {
    const flaps = new FlapDamper(1, 3);
    for (let i = 0; i < 5; i++) flaps.record('a', 0);
    for (let i = 0; i < 62; i++) flaps.record(`old-${i}`, 0);
    // 5 · 0.5^x is exactly 0.01 in floating point at this x
    const at = 8.965784284662087;
    expect(flaps.penalty('a', at)).toBe(0.01);
    flaps.record('new', at); // the 64th record: sweeps
    expect(flaps.penalty('old-0', at)).toBe(0);
    expect(flaps.penalty('a', at)).toBe(0.01);
  });

  it('after a sweep that frees nothing, the next one waits until the map has doubled', () => {
    const flaps = new FlapDamper(1000, 3);
    // 64 live penalties: the sweep at the 64th frees nothing, so the next comes at 128 records
    for (let i = 0; i < 64; i++) flaps.record(`live-${i}`, 0);
    flaps.record('later', 8000); // 65 records: no sweep yet, the old penalties are still read
    expect(flaps.penalty('live-0', 8000)).toBe(1 / 256);
    for (let i = 0; i < 62; i++) flaps.record(`more-${i}`, 8000);
    expect(flaps.penalty('live-0', 8000)).toBe(1 / 256);
    flaps.record('128th', 8000);
    expect(flaps.penalty('live-0', 8000)).toBe(0);
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

  it('with one expected confirmation, starts at the maximum and reaches the minimum with that one', () => {
    const at = (confirmations: number) => suspicionTimeoutMs({ ...base, expectedConfirmations: 1, clusterSize: 10, confirmations });
    expect(at(0)).toBe(24_000);
    expect(at(1)).toBe(4000);
  });

  it('waits for no confirmations when none can come', () => {
    expect(suspicionTimeoutMs({ ...base, expectedConfirmations: 0, clusterSize: 10, confirmations: 0 })).toBe(4000);
  });
});
