import { digestEntrySize, entrySize, MessageBudget } from '../../lib/core/message-budget.js';
import { toWire, type MemberEntry } from '../../lib/core/membership-view.js';

describe('MessageBudget', () => {
  it('takes what fits and refuses what does not, leaving the total unchanged', () => {
    const b = new MessageBudget(100, 60);
    expect(b.take(40)).toBe(true);
    expect(b.used).toBe(100);
    expect(b.take(1)).toBe(false);
    expect(b.used).toBe(100);
    expect(b.left).toBe(0);
  });

  it('add always takes (the item that must go)', () => {
    const b = new MessageBudget(10);
    b.add(15);
    expect(b.used).toBe(15);
    expect(b.left).toBe(0);
  });

  it('entrySize is the wire form of an entry plus its separating comma', () => {
    const entries: MemberEntry[] = [
      { baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1_795_411_200_000, online: true },
      { baseUrl: 'http://10.0.0.5:3000/', monitor: true, lastUpdate: 1_795_411_200_000, online: true },
      { baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1_795_411_200_000, online: false, by: 'http://10.0.0.6:3000/' },
      { baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1_795_411_200_000, online: true, suspect: true, by: 'http://10.0.0.6:3000/', generation: 1_795_411_100_000 },
    ];
    for (const e of entries) expect(entrySize(e)).toBe(JSON.stringify(toWire(e)).length + 1);
  });

  it('digestEntrySize covers a digest entry with its separators', () => {
    const d: [string, number, number, number] = ['http://10.0.0.5:3000/', 1_795_411_200_000, 2, 1_795_411_200_123];
    expect(digestEntrySize(d)).toBeGreaterThanOrEqual(JSON.stringify(d).length + 1);
  });
});
