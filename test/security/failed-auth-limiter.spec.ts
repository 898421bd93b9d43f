/**
 * The failed-authentication limit (README, `authFailureLimit`): per client address, a sliding
 * minute of failures; at the limit the client is answered 429 until its oldest failure leaves
 * the window. Bounded memory, least recently failed forgotten first. A manual clock.
 */
import { FailedAuthLimiter } from '../../lib/security/failed-auth-limiter.js';

function limiter(limit: number, windowMs = 60_000, maxClients = 10_000) {
  const clock = { now: 1_000_000 };
  return { clock, limiter: new FailedAuthLimiter(limit, windowMs, () => clock.now, maxClients) };
}

describe('FailedAuthLimiter', () => {
  it('blocks a client at exactly `limit` failures within the window, and no sooner', () => {
    const { limiter: l } = limiter(3);
    expect(l.anyFailures).toBe(false);
    l.recordFailure('10.0.0.1');
    l.recordFailure('10.0.0.1');
    expect(l.anyFailures).toBe(true);
    expect(l.isBlocked('10.0.0.1')).toBe(false);
    l.recordFailure('10.0.0.1');
    expect(l.isBlocked('10.0.0.1')).toBe(true);
    // another address is its own count
    expect(l.isBlocked('10.0.0.2')).toBe(false);
    expect(l.refusedTotal).toBe(3);
  });

  it('forgets each failure when it leaves the sliding window: blocked until the oldest is a window old', () => {
    const { clock, limiter: l } = limiter(2, 60_000);
    l.recordFailure('c');
    clock.now += 10_000;
    l.recordFailure('c');
    expect(l.isBlocked('c')).toBe(true);
    // retry after: the oldest failure (10 s ago) leaves in 50 s
    expect(l.retryAfterSeconds('c')).toBe(50);
    clock.now += 49_999; // the oldest is 59.999 s old
    expect(l.isBlocked('c')).toBe(true);
    expect(l.retryAfterSeconds('c')).toBe(1);
    clock.now += 1; // exactly a window old: gone
    expect(l.isBlocked('c')).toBe(false);
    clock.now += 10_000; // both gone: the client is forgotten altogether
    expect(l.isBlocked('c')).toBe(false);
    expect(l.anyFailures).toBe(false);
  });

  it('answers Retry-After in whole seconds, rounded up, at least 1, and 1 for a client it does not know', () => {
    const { clock, limiter: l } = limiter(1, 60_000);
    expect(l.retryAfterSeconds('nobody')).toBe(1);
    l.recordFailure('c');
    clock.now += 500;
    expect(l.retryAfterSeconds('c')).toBe(60); // 59.5 s left: 60
    clock.now += 59_499;
    expect(l.retryAfterSeconds('c')).toBe(1); // 1 ms left
    clock.now += 10_000;
    expect(l.retryAfterSeconds('c')).toBe(1); // already past: still 1, never 0 or less
  });

  it('a limit of 0 blocks nobody and keeps nothing, but still counts the refusals', () => {
    const { limiter: l } = limiter(0);
    for (let i = 0; i < 100; i++) l.recordFailure('c');
    expect(l.isBlocked('c')).toBe(false);
    expect(l.anyFailures).toBe(false);
    expect(l.refusedTotal).toBe(100);
  });

  it('counts refusals that say nothing against the client without charging it', () => {
    const { limiter: l } = limiter(1);
    l.countRefusal();
    l.countRefusal();
    expect(l.refusedTotal).toBe(2);
    expect(l.anyFailures).toBe(false);
    expect(l.isBlocked('c')).toBe(false);
  });

  it('tracks at most `maxClients` addresses, forgetting the least recently failed first', () => {
    const { clock, limiter: l } = limiter(2, 60_000, 3);
    for (const client of ['a', 'b', 'c']) {
      l.recordFailure(client);
      l.recordFailure(client);
      clock.now += 1;
    }
    l.recordFailure('a'); // a is now the most recently failed
    l.recordFailure('d'); // a fourth client: b, the least recent, is forgotten
    expect(l.isBlocked('b')).toBe(false);
    expect(l.isBlocked('a')).toBe(true);
    expect(l.isBlocked('c')).toBe(true);
    l.recordFailure('d');
    expect(l.isBlocked('d')).toBe(true);
  });

  it('defaults to a one-minute window on the system clock', () => {
    const l = new FailedAuthLimiter(1);
    l.recordFailure('c');
    expect(l.isBlocked('c')).toBe(true);
    expect(l.retryAfterSeconds('c')).toBeGreaterThanOrEqual(59);
    expect(l.retryAfterSeconds('c')).toBeLessThanOrEqual(60);
  });
});
