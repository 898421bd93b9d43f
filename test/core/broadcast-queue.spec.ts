import { BroadcastQueue } from '../../lib/core/broadcast-queue.js';

describe('BroadcastQueue (SWIM piggybacking, memberlist TransmitLimitedQueue)', () => {
  it('sends least-sent first and, among equals, newest first', () => {
    const q = new BroadcastQueue<string>();
    q.enqueue('a', 'a1');
    q.enqueue('b', 'b1');
    q.enqueue('c', 'c1');
    expect(q.take(2, 10)).toEqual(['c1', 'b1']);
    // c and b were sent once, a never: a leads, then the newest of the sent ones
    expect(q.take(2, 10)).toEqual(['a1', 'c1']);
  });

  it('drops an item once it has been sent `limit` times', () => {
    const q = new BroadcastQueue<string>();
    q.enqueue('a', 'a1');
    expect(q.take(5, 3)).toEqual(['a1']);
    expect(q.take(5, 3)).toEqual(['a1']);
    expect(q.size).toBe(1);
    expect(q.take(5, 3)).toEqual(['a1']);
    expect(q.size).toBe(0);
    expect(q.take(5, 3)).toEqual([]);
  });

  it('keeps one item per key: a newer change replaces the older and starts its count again', () => {
    const q = new BroadcastQueue<string>();
    q.enqueue('a', 'old');
    q.take(1, 2);
    q.enqueue('a', 'new');
    expect(q.size).toBe(1);
    expect(q.peek('a')).toBe('new');
    expect(q.take(1, 2)).toEqual(['new']);
    expect(q.take(1, 2)).toEqual(['new']);
    expect(q.size).toBe(0);
  });

  it('skips what does not fit and keeps it queued, uncounted', () => {
    const q = new BroadcastQueue<string>();
    q.enqueue('big', 'x'.repeat(100));
    q.enqueue('small', 'y');
    expect(q.take(10, 1, (item) => item.length < 10)).toEqual(['y']);
    expect(q.size).toBe(1);
    expect(q.take(10, 1)).toEqual(['x'.repeat(100)]);
    expect(q.size).toBe(0);
  });

  it('takes nothing for max 0', () => {
    const q = new BroadcastQueue<string>();
    q.enqueue('a', 'a1');
    expect(q.take(0, 1)).toEqual([]);
    expect(q.size).toBe(1);
  });
});
