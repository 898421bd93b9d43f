import type { MemberEntry } from '../../lib/core/membership-view.js';
import { choosePeer, shuffle, type PeerSelectionSettings } from '../../lib/core/peer-selection.js';

/**
 * choosePeer and shuffle with a scripted random source: each test gives the exact draws, so it
 * pins which partner each rule picks and how many draws it takes (a draw too many throws).
 */

const SELF = 'http://self:1/';
const settings: PeerSelectionSettings = { selfUrl: SELF, monitorPreference: 0.5, offlineProbeProbability: 0.1 };

const member = (baseUrl: string, online: boolean, monitor = false): MemberEntry => ({ baseUrl, monitor, lastUpdate: 1, online });

/** A random source that returns `values` in turn and fails the test on one draw too many. */
function draws(...values: number[]): (() => number) & { used: () => number } {
  let i = 0;
  const random = () => {
    if (i >= values.length) throw new Error(`draw ${i + 1} of a script of ${values.length}`);
    return values[i++];
  };
  return Object.assign(random, { used: () => i });
}

describe('choosePeer', () => {
  const online = [member(SELF, true), member('http://a:1/', true), member('http://b:1/', true), member('http://c:1/', true), member('http://d:1/', true)];

  it('picks the online peer at floor(draw · count): 0 the first, 0.5 the middle, just under 1 the last', () => {
    expect(choosePeer(online, settings, new Set(), draws(0))).toBe('http://a:1/');
    expect(choosePeer(online, settings, new Set(), draws(0.5))).toBe('http://c:1/');
    expect(choosePeer(online, settings, new Set(), draws(0.999))).toBe('http://d:1/');
  });

  it('still picks a peer (the last) from a random source that returns 1', () => {
    expect(choosePeer(online, settings, new Set(), draws(1))).toBe('http://d:1/');
  });

  it('never probes the reserve with offlineProbeProbability 0, even on a draw of 0', () => {
    const entries = [member(SELF, true), member('http://a:1/', true), member('http://off:1/', false)];
    expect(choosePeer(entries, { ...settings, offlineProbeProbability: 0 }, new Set(), draws(0, 0))).toBe('http://a:1/');
  });

  it('probes the reserve (offline servers, then unknown seeds) when the draw is under offlineProbeProbability', () => {
    const entries = [member(SELF, true), member('http://a:1/', true), member('http://off:1/', false)];
    const seeds = new Set(['http://seed:1/']);
    expect(choosePeer(entries, settings, seeds, draws(0.05, 0))).toBe('http://off:1/');
    expect(choosePeer(entries, settings, seeds, draws(0.05, 0.5))).toBe('http://seed:1/');
    expect(choosePeer(entries, settings, seeds, draws(0.1, 0))).toBe('http://a:1/');
  });

  it('leaves out of the reserve the seeds it already knows as members', () => {
    const entries = [member(SELF, true), member('http://a:1/', true), member('http://b:1/', true), member('http://off:1/', false)];
    // seeds a (online) and off (offline) are members already: the reserve is [off] alone
    const seeds = new Set(['http://a:1/', 'http://off:1/']);
    expect(choosePeer(entries, { ...settings, offlineProbeProbability: 1 }, seeds, draws(0, 0.5))).toBe('http://off:1/');
    // with every seed an online member the reserve is empty: no probe of it, no draw for it
    const random = draws(0.99);
    expect(choosePeer(entries.slice(0, 3), { ...settings, offlineProbeProbability: 1 }, new Set(['http://a:1/']), random)).toBe('http://b:1/');
    expect(random.used()).toBe(1);
  });

  it('prefers a monitor when the draw is under monitorPreference, a non-monitor otherwise', () => {
    const entries = [member(SELF, true), member('http://a:1/', true), member('http://mon:1/', true, true)];
    expect(choosePeer(entries, settings, new Set(), draws(0.2, 0))).toBe('http://mon:1/');
    expect(choosePeer(entries, settings, new Set(), draws(0.5, 0))).toBe('http://a:1/');
    expect(choosePeer(entries, { ...settings, monitorPreference: 0 }, new Set(), draws(0, 0))).toBe('http://a:1/');
    expect(choosePeer(entries, { ...settings, monitorPreference: 1 }, new Set(), draws(0.999, 0))).toBe('http://mon:1/');
  });
});

describe('shuffle (Fisher–Yates)', () => {
  it('swaps position i, from the last down to 1, with floor(draw · (i + 1)): n − 1 draws', () => {
    const items = ['a', 'b', 'c', 'd'];
    // i = 3: j = 0 → d b c a; i = 2: j = 2 → unchanged; i = 1: j = 0 → b d c a
    const random = draws(0, 0.99, 0.2);
    shuffle(items, random);
    expect(items).toEqual(['b', 'd', 'c', 'a']);
    expect(random.used()).toBe(3);
  });

  it('leaves one item alone and draws nothing', () => {
    const items = ['a'];
    shuffle(items, draws());
    expect(items).toEqual(['a']);
  });
});
