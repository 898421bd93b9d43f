import { Awareness } from '../../lib/core/awareness.js';

describe('Awareness (Lifeguard local health)', () => {
  it('rises and falls by one, between 0 and max − 1', () => {
    const a = new Awareness(3, 2000);
    a.lower();
    expect(a.score).toBe(0);
    a.raise();
    a.raise();
    a.raise();
    expect(a.score).toBe(2);
    a.lower();
    expect(a.score).toBe(1);
  });

  it('scales timeouts by (score + base)', () => {
    const a = new Awareness(8, 2000);
    expect(a.scale(500)).toBe(500);
    expect(a.scale(500, 2)).toBe(1000);
    a.raise();
    expect(a.scale(500)).toBe(1000);
    expect(a.scale(500, 2)).toBe(1500);
  });

  it('after a pause, raises the score and is quiet for the quiet period', () => {
    const a = new Awareness(8, 2000);
    a.degrade(10_000);
    expect(a.score).toBe(1);
    expect(a.isQuiet(11_999)).toBe(true);
    expect(a.isQuiet(12_000)).toBe(false);
  });

  it('counts a tick as late only beyond interval · score + timeout past when it was due', () => {
    const a = new Awareness(8, 2000);
    expect(a.tickStarted(0, 1000, 500)).toBe(false);
    a.tickEnded(100);
    // due at 1000; 1500 is exactly the slack
    expect(a.tickStarted(1500, 1000, 500)).toBe(false);
    a.tickEnded(1600);
    expect(a.tickStarted(3001, 1000, 500)).toBe(true);
    expect(a.score).toBe(1);
    expect(a.isQuiet(3001)).toBe(true);
  });

  it('a tick that ran long (waiting on timeouts) moves the next due time, so it is not lateness', () => {
    const a = new Awareness(8, 2000);
    a.tickStarted(0, 1000, 500);
    a.tickEnded(2500); // the tick itself took 2.5 intervals
    expect(a.tickStarted(2600, 1000, 500)).toBe(false);
    expect(a.score).toBe(0);
  });

  it('without a recorded end, the next tick is due an interval after the last one started', () => {
    const a = new Awareness(8, 2000);
    a.tickStarted(0, 1000, 500);
    // no tickEnded: due at 1000, late beyond 1500
    expect(a.tickStarted(1500, 1000, 500)).toBe(false);
    expect(a.tickStarted(3001, 1000, 500)).toBe(true);
    expect(a.score).toBe(1);
  });
});
