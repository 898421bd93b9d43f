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
    expect(classifyFailure(Object.assign(new Error('x'), { status: 401 }))).toBe('unauthorized');
    // a signed 401 (stamped before the peer started, twice) is from a peer that shares our secret
    expect(classifyFailure(Object.assign(new Error('x'), { status: 401, authenticated: true }))).toBe('silent');
    expect(classifyFailure(Object.assign(new Error('x'), { status: 500 }))).toBe('silent');
    expect(classifyFailure(new Error('timed out'))).toBe('silent');
    expect(classifyFailure('a string')).toBe('silent');
    expect(classifyFailure(null)).toBe('silent');
    expect(classifyFailure(undefined)).toBe('silent');
    expect(classifyFailure(404)).toBe('silent');
  });
});

describe('PeerBook, bookkeeping', () => {
  const self = 'http://self:1/';

  it('counts a seed that is our own URL as nothing: not a seed, not refused', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    peers.addSeeds(['http://SELF:1']);
    expect(peers.seeds.size).toBe(0);
    expect(peers.refused).toBe(0);
  });

  it('forgets page format and 404s once a signed answer comes from our endpoints', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    peers.markPageFormat('http://a:1/');
    peers.noteNotFound('http://b:1/', 5);
    peers.noteEndpointsFound('http://a:1/');
    peers.noteEndpointsFound('http://b:1/');
    expect(peers.isPageFormat('http://a:1/')).toBe(false);
    expect(peers.notFoundSince(0)).toEqual([]);
  });

  it('lists 404s from `since` on (inclusive), in the order noted, and keeps at most 10,000', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    peers.noteNotFound('http://c:1/', 10);
    peers.noteNotFound('http://a:1/', 20);
    peers.noteNotFound('http://b:1/', 30);
    expect(peers.notFoundSince(20)).toEqual(['http://a:1/', 'http://b:1/']);
    expect(peers.notFoundSince(31)).toEqual([]);
    for (let i = 3; i < 10_000; i++) peers.noteNotFound(`http://n${i}:1/`, 40);
    expect(peers.notFoundSince(0)).toHaveLength(10_000);
    expect(peers.notFoundSince(0)[0]).toBe('http://c:1/');
    peers.noteNotFound('http://last:1/', 50);
    expect(peers.notFoundSince(0)).toHaveLength(10_000);
    expect(peers.notFoundSince(0)[0]).toBe('http://a:1/');
  });

  it('keeps at most 10,000 peers that answered 401, dropping the oldest; without a log it notes them silently', () => {
    const peers = new PeerBook(self, { now: () => 0 }); // no log: nothing to warn through, and no throw
    for (let i = 0; i < 10_000; i++) peers.noteUnauthorized(`http://n${i}:1/`, i);
    expect(peers.unauthorizedSince(0)).toHaveLength(10_000);
    expect(peers.unauthorizedSince(0)[0]).toBe('http://n0:1/');
    peers.noteUnauthorized('http://last:1/', 10_000);
    expect(peers.unauthorizedSince(0)).toHaveLength(10_000);
    expect(peers.unauthorizedSince(0)[0]).toBe('http://n1:1/');
  });

  it('notes 401s (a peer refusing our signature): warns once per peer, lists them from `since` on, clears them on a signed answer or a new process', () => {
    let now = 0;
    const warnings: string[] = [];
    const peers = new PeerBook(self, { now: () => now, log: new RateLimitedLog({ warn: (m) => warnings.push(m), debug: () => undefined }, () => now) });
    peers.noteUnauthorized('http://a:1/', 10);
    peers.noteUnauthorized('http://a:1/', 20);
    peers.noteUnauthorized('http://b:1/', 15);
    expect(warnings).toEqual([
      "http://a:1/ answered 401: it refuses this server's signature. SHAZBOT_SECRET (option secret) differs from its, or a clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW)",
      "http://b:1/ answered 401: it refuses this server's signature. SHAZBOT_SECRET (option secret) differs from its, or a clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW)",
    ]);
    expect(peers.unauthorizedSince(15)).toEqual(['http://a:1/', 'http://b:1/']); // the order of their last 401
    expect(peers.unauthorizedSince(16)).toEqual(['http://a:1/']);
    peers.noteEndpointsFound('http://a:1/');
    peers.forgetProcess('http://b:1/');
    expect(peers.unauthorizedSince(0)).toEqual([]);
    now = 1;
    expect(peers.foreignNow()).toEqual([]);
    peers.markForeign('http://c:1/');
    expect(peers.foreignNow()).toEqual(['http://c:1/']);
    now += 10 * 60_000;
    expect(peers.foreignNow()).toEqual([]);
  });

  it('prunes acks only when they outnumber the view by more than 64', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    for (let i = 0; i < 74; i++) peers.noteAnswered(`http://p${i}:1/`);
    peers.pruneAnswered(() => false, 10);
    expect(peers.hasAnswered('http://p1:1/')).toBe(true);
    peers.noteAnswered('http://p74:1/');
    peers.pruneAnswered((url) => url === 'http://p0:1/', 10);
    expect(peers.hasAnswered('http://p0:1/')).toBe(true);
    expect(peers.hasAnswered('http://p1:1/')).toBe(false);
  });

  it('keeps the first sighting of each process, restarts its clock on a new generation, and prunes processes like acks', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    peers.noteProcess('http://a:1/', 7, 100);
    peers.noteProcess('http://a:1/', 7, 200);
    expect(peers.knownSince('http://a:1/')).toBe(100);
    peers.noteProcess('http://a:1/', 8, 300);
    expect(peers.knownSince('http://a:1/')).toBe(300);
    peers.noteProcess('http://b:1/', undefined, 400);
    peers.noteProcess('http://b:1/', 0, 500);
    expect(peers.knownSince('http://b:1/')).toBe(400);
    for (let i = 2; i < 74; i++) peers.noteProcess(`http://p${i}:1/`, 1, 1);
    peers.pruneAnswered(() => false, 10); // 74 processes: not more than 10 + 64
    expect(peers.knownSince('http://a:1/')).toBe(300);
    peers.noteProcess('http://p74:1/', 1, 1);
    peers.pruneAnswered((url) => url === 'http://a:1/', 10);
    expect(peers.knownSince('http://a:1/')).toBe(300);
    expect(peers.knownSince('http://b:1/')).toBeUndefined();
  });

  it('keeps at most 10,000 foreign marks, dropping the oldest', () => {
    const peers = new PeerBook(self, { now: () => 0 });
    for (let i = 0; i < 10_000; i++) peers.markForeign(`http://f${i}:1/`);
    expect(peers.isForeign('http://f0:1/')).toBe(true);
    peers.markForeign('http://f10000:1/');
    expect(peers.isForeign('http://f0:1/')).toBe(false);
    expect(peers.isForeign('http://f1:1/')).toBe(true);
  });

  it('warns on the first mark, naming the server and the 10 minutes', () => {
    const warnings: string[] = [];
    const peers = new PeerBook(self, { now: () => 0, log: new RateLimitedLog({ warn: (m) => warnings.push(m), debug: () => undefined }, () => 0) });
    peers.markForeign('http://other:1/');
    expect(warnings).toEqual(['http://other:1/ answered 403: it belongs to another cluster (or refuses ours); ignoring it for 10 min']);
  });
});
