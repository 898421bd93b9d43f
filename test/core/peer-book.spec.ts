import { PeerBook } from '../../lib/core/peer-book.js';
import { RateLimitedLog } from '../../lib/core/engine-log.js';
import { classifyFailure } from '../../lib/core/transport.js';

describe('PeerBook', () => {
  const self = 'http://self:1/';

  it('normalises seeds, and refuses itself, malformed URLs and those the address policy refuses', () => {
    const peers = new PeerBook(self, { now: () => 0, acceptPeer: (url) => !url.includes('blocked') });
    peers.addSeeds(['http://A:1', 'http://self:1/', 'not a url', 'http://blocked:1/']);
    expect([...peers.seeds]).toEqual(['http://a:1/']);
    expect(peers.refused).toBe(2);
  });

  it('ignores a foreign server for 10 minutes, forgets it as a seed and tells its listeners once per mark', () => {
    let now = 0;
    const warnings: string[] = [];
    const peers = new PeerBook(self, { now: () => now, log: new RateLimitedLog({ warn: (m) => warnings.push(m), debug: () => undefined }, () => now) });
    const told: string[] = [];
    peers.onForeign((url) => told.push(url));
    peers.addSeeds(['http://other:1/']);
    peers.markForeign('http://other:1/');
    peers.markForeign('http://other:1/');
    expect(told).toEqual(['http://other:1/', 'http://other:1/']);
    expect(warnings).toHaveLength(1);
    expect(peers.seeds.size).toBe(0);
    expect(peers.isForeign('http://other:1/')).toBe(true);
    now = 10 * 60_000 - 1;
    expect(peers.isForeign('http://other:1/')).toBe(true);
    now = 10 * 60_000;
    expect(peers.isForeign('http://other:1/')).toBe(false);
    peers.addSeeds(['http://other:1/']);
    expect(peers.seeds.size).toBe(1);
  });

  it('forgets acks of servers that left the view once they outnumber the view by more than 64', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    for (let i = 0; i < 80; i++) peers.noteAnswered(`http://p${i}:1/`);
    peers.pruneAnswered((url) => url === 'http://p0:1/', 10);
    expect(peers.hasAnswered('http://p0:1/')).toBe(true);
    expect(peers.hasAnswered('http://p1:1/')).toBe(false);
  });
});

describe('classifyFailure', () => {
  it('reads refused connections, 404, 403 and everything else', () => {
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('refused');
    expect(classifyFailure(Object.assign(new Error('x'), { status: 404 }))).toBe('not-found');
    expect(classifyFailure(Object.assign(new Error('x'), { status: 403 }))).toBe('foreign');
    expect(classifyFailure(Object.assign(new Error('x'), { status: 500 }))).toBe('silent');
    expect(classifyFailure(new Error('timed out'))).toBe('silent');
    expect(classifyFailure('a string')).toBe('silent');
    expect(classifyFailure(null)).toBe('silent');
  });
});
