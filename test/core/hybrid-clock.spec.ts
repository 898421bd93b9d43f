import { HybridClock } from '../../lib/core/hybrid-clock.js';

describe('HybridClock (hybrid logical clock folded into ms)', () => {
  it('follows the wall clock while nothing newer was seen', () => {
    let wall = 1000;
    const clock = new HybridClock(() => wall, 600_000);
    expect(clock.tick()).toBe(1000);
    wall = 1500.7;
    expect(clock.tick()).toBe(1500);
  });

  it('never issues the same stamp twice, even within one millisecond', () => {
    const clock = new HybridClock(() => 1000, 600_000);
    expect([clock.tick(), clock.tick(), clock.tick()]).toEqual([1000, 1001, 1002]);
  });

  it('orders its stamps after every stamp it observed, whatever its wall clock says', () => {
    const clock = new HybridClock(() => 1000, 600_000);
    expect(clock.observe(5000)).toBe(true);
    expect(clock.tick()).toBe(5001);
  });

  it('refuses stamps further ahead than the skew bound, and they do not move it', () => {
    const clock = new HybridClock(() => 1000, 60_000);
    expect(clock.isAcceptable(61_000)).toBe(true);
    expect(clock.isAcceptable(61_001)).toBe(false);
    expect(clock.observe(61_001)).toBe(false);
    expect(clock.tick()).toBe(1000);
  });

  it('refuses stamps that are not non-negative safe integers', () => {
    const clock = new HybridClock(() => 1000, 60_000);
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) expect(clock.isAcceptable(bad)).toBe(false);
  });

  it('an older stamp observed later does not move the clock back', () => {
    const clock = new HybridClock(() => 1000, 600_000);
    expect(clock.observe(5000)).toBe(true);
    expect(clock.observe(3000)).toBe(true);
    expect(clock.tick()).toBe(5001);
  });

  it('accepts a stamp of 0, the lowest non-negative one', () => {
    const clock = new HybridClock(() => 1000, 60_000);
    expect(clock.isAcceptable(0)).toBe(true);
  });

  it('reads the wall clock in whole ms for ages and deadlines, without issuing a stamp', () => {
    let wall = 1000.9;
    const clock = new HybridClock(() => wall, 60_000);
    expect(clock.physicalNow()).toBe(1000);
    wall = 2000.2;
    expect(clock.physicalNow()).toBe(2000);
    // no stamp was issued: the next one follows the wall clock
    wall = 500;
    expect(clock.tick()).toBe(500);
  });
});
