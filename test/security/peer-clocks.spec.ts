/**
 * Peer clock offsets from signed replies (NTP's midpoint estimate, RFC 5905 §8): the offset is
 * the peer's stamp minus the midpoint of our send and receive times, per peer, with the least
 * recently heard from forgotten first.
 */
import { PeerClocks } from '../../lib/security/peer-clocks.js';

describe('PeerClocks', () => {
  it('is 0 for a peer that never answered', () => {
    expect(new PeerClocks().offset('http://a:1/')).toBe(0);
  });

  it('takes the peer stamp against the midpoint of the round trip, rounded to the ms', () => {
    const clocks = new PeerClocks();
    // sent at 1000, answered at 1100 (our clock): the midpoint is 1050; the peer said 61_050
    clocks.observe('http://a:1/', 61_050, 1000, 1100);
    expect(clocks.offset('http://a:1/')).toBe(60_000);
    // a peer behind us
    clocks.observe('http://b:1/', 500, 1000, 1001);
    expect(clocks.offset('http://b:1/')).toBe(-500); // 500 − 1000.5, rounded (half up)
    // the latest observation replaces the earlier one
    clocks.observe('http://a:1/', 2000, 1000, 1000);
    expect(clocks.offset('http://a:1/')).toBe(1000);
  });

  it('ignores a stamp that gives no usable offset', () => {
    const clocks = new PeerClocks();
    clocks.observe('http://a:1/', 5000, 1000, 1000);
    clocks.observe('http://a:1/', Number.NaN, 1000, 1000);
    clocks.observe('http://a:1/', Number.MAX_VALUE, 1000, 1000);
    expect(clocks.offset('http://a:1/')).toBe(4000);
  });

  it('remembers at most `maxPeers`, forgetting the peer heard from least recently', () => {
    const clocks = new PeerClocks(2);
    clocks.observe('http://a:1/', 10, 0, 0);
    clocks.observe('http://b:1/', 20, 0, 0);
    clocks.observe('http://a:1/', 11, 0, 0); // a heard from again: b is now the least recent
    clocks.observe('http://c:1/', 30, 0, 0);
    expect(clocks.offset('http://b:1/')).toBe(0);
    expect(clocks.offset('http://a:1/')).toBe(11);
    expect(clocks.offset('http://c:1/')).toBe(30);
  });
});
