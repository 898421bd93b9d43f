/**
 * The failure detector's decisions, one rule at a time: the real FailureDetector, Membership,
 * Awareness and PeerBook of one server, wired as ClusterEngine wires them, with a scripted
 * network in place of the transport (what each probe of the victim and each helper answers).
 * No time passes during a probe, so no accusation is withheld for lateness.
 *
 * The refusal fast path (step 3 of docs/failure-detection.md) declares a member offline at once
 * only when every one of its guards holds; each guard gets a case where it alone is false.
 */
import { Awareness } from '../../lib/core/awareness.js';
import { RateLimitedLog } from '../../lib/core/engine-log.js';
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from '../../lib/core/engine-settings.js';
import { FailureDetector, type ProbeResult } from '../../lib/core/failure-detector.js';
import { stateOf, type MemberEntry } from '../../lib/core/membership-view.js';
import { Membership } from '../../lib/core/membership.js';
import { PeerBook } from '../../lib/core/peer-book.js';
import type { ProbeAck } from '../../lib/core/types.js';

const SELF = 'http://self:1/';
const VICTIM = 'http://victim:1/';
const HELPERS = ['http://h1:1/', 'http://h2:1/', 'http://h3:1/'];
const T0 = 1_800_000_000_000;
/** The minimum suspicion timeout at N = 5: 4 · max(1, log10 5) intervals of 1 s. */
const MIN_SUSPICION_MS = 4000;

const refusedError = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const ack = (over: Partial<ProbeAck> = {}): ProbeAck => ({ message: 'ack', ack: true, online: [], ...over });

interface Script {
  /** What our direct probes of the victim meet, in order (first probe, second probe); then 'refused'. 'nack': an answer without `ack: true`. */
  direct: (ProbeResult | 'nack')[];
  /** What each helper reports about the victim; absent: 'refused'. */
  helpers: Record<string, ProbeResult>;
}

function harness(over: Partial<EngineSettings> = {}, members: string[] = [VICTIM, ...HELPERS]) {
  const clock = { now: T0 };
  const now = () => clock.now;
  // offline probes never drawn, and a random source that keeps every list in view order: the
  // victim, merged first, is the first probe target, and the helpers are h1, h2, h3
  const settings: EngineSettings = { ...DEFAULT_ENGINE_SETTINGS, offlineProbeProbability: 0, ...over, selfUrl: SELF };
  const log = new RateLimitedLog(undefined, now);
  const awareness = new Awareness(settings.awarenessMax, settings.probeIntervalMs * 2);
  const peers = new PeerBook(SELF, { now, log });
  const membership = new Membership(settings, { now, log, peers, awareness });
  membership.onApplied((entry) => peers.noteProcess(entry.baseUrl, entry.generation, now()));
  membership.onNewProcess((url) => peers.forgetProcess(url));
  const script: Script = { direct: [], helpers: {} };
  const sent: { peer: string; target?: string }[] = [];
  const gossipChecks: string[] = [];
  /** The random source: these values first, then 0.999 (which keeps every shuffled list in view order). */
  const draws: number[] = [];
  /** Called as each probe leaves, before its answer (to change the view while a probe is out). */
  const hooks: { onSend?: (peer: string, target: string | undefined) => void } = {};
  const answer = (result: ProbeResult | 'nack' | undefined): ProbeAck => {
    if (result === 'ack') return ack();
    if (result === 'nack') return ack({ ack: false });
    if (result === 'silent') throw new Error('timed out');
    throw refusedError();
  };
  const detector = new FailureDetector(settings, membership, awareness, peers, {
    now,
    random: () => draws.shift() ?? 0.999,
    send: async (peer, target) => {
      sent.push({ peer, target });
      hooks.onSend?.(peer, target);
      if (target === undefined) return peer === VICTIM ? answer(script.direct.shift() ?? 'refused') : ack();
      const report = script.helpers[peer] ?? 'refused';
      return report === 'ack' ? ack() : ack({ ack: false, refused: report === 'refused' });
    },
    gossipCheck: async (peer) => {
      gossipChecks.push(peer);
      return false;
    },
  });
  membership.start();
  const entries: MemberEntry[] = members.map((baseUrl) => ({ baseUrl, monitor: false, online: true, lastUpdate: T0 - 1000, generation: T0 - 1000 }));
  membership.merge({ online: entries }, 'test');
  const victim = () => membership.get(VICTIM)!;
  return { clock, settings, awareness, peers, membership, detector, script, sent, gossipChecks, draws, hooks, victim };
}

/** A harness whose victim is established: we learnt of its process longer ago than the minimum suspicion timeout. */
function established(over: Partial<EngineSettings> = {}, members?: string[]) {
  const h = harness(over, members);
  h.clock.now += MIN_SUSPICION_MS + 1;
  return h;
}

describe('the refusal fast path: offline at once only when every guard holds', () => {
  it('all guards hold: refused by both direct probes and by every helper, established, healthy, not flapping → offline at once, by us', async () => {
    const h = established();
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'refused', target: VICTIM });
    expect(h.victim()).toMatchObject({ online: false, by: SELF });
    expect(h.victim().suspect).toBeUndefined();
    expect(h.detector.stats).toMatchObject({ declaredOffline: 1, refusalsConfirmed: 1, suspicionsRaised: 0 });
    // two direct probes of the victim, and each of the three helpers asked about it
    expect(h.sent).toEqual([{ peer: VICTIM }, ...HELPERS.map((peer) => ({ peer, target: VICTIM })), { peer: VICTIM }]);
  });

  it.each([
    ['one helper got no answer (it timed out)', 'silent'],
    ['one helper got an ack', 'ack'],
  ] as const)('not every helper was refused: %s → no offline', async (_case, report) => {
    const h = established();
    h.script.helpers[HELPERS[1]] = report;
    const outcome = await h.detector.probe(h.clock.now);
    if (report === 'ack') {
      expect(outcome).toEqual({ kind: 'alive', target: VICTIM, via: 'indirect' });
      expect(stateOf(h.victim())).toBe('alive');
    } else {
      expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
      expect(h.victim()).toMatchObject({ online: true, suspect: true, by: SELF });
    }
    expect(h.detector.stats.refusalsConfirmed).toBe(0);
  });

  it('one helper could not be reached at all (its request failed) → not refused everywhere → a suspicion', async () => {
    const h = established();
    h.hooks.onSend = (peer, target) => {
      if (peer === HELPERS[2] && target === VICTIM) throw new Error('socket hang up');
    };
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.detector.stats.refusalsConfirmed).toBe(0);
  });

  it('no helper to ask (nobody else is alive): refusals by us alone are not enough → a suspicion', async () => {
    const h = established({}, [VICTIM]);
    const outcome = await h.detector.probe(h.clock.now);
    expect(h.sent).toEqual([{ peer: VICTIM }, { peer: VICTIM }]);
    expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it('our own health score is above 0 → a suspicion, not an offline', async () => {
    const h = established();
    h.awareness.raise();
    expect(h.awareness.score).toBe(1);
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it('the flap penalty is above the threshold → a suspicion, not an offline', async () => {
    const h = harness();
    // four transitions (offline, online, offline, online): penalty 4 > threshold 3
    let stamp = T0 - 900;
    for (const online of [false, true, false, true]) {
      h.membership.merge({ online: online ? [{ baseUrl: VICTIM, monitor: false, lastUpdate: stamp, generation: T0 - 1000 }] : [], offline: online ? [] : [{ baseUrl: VICTIM, monitor: false, lastUpdate: stamp, generation: T0 - 1000 }] }, 'test');
      stamp += 10;
    }
    h.clock.now += MIN_SUSPICION_MS + 1;
    expect(h.membership.flapFactor(VICTIM, h.clock.now)).toBeGreaterThan(1);
    expect(stateOf(h.victim())).toBe('alive');
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it('three transitions (a penalty of 3, not above the threshold) keep the fast path', async () => {
    const h = harness();
    const entry = (lastUpdate: number, extra: Partial<MemberEntry> = {}) => ({ baseUrl: VICTIM, monitor: false, lastUpdate, generation: T0 - 1000, ...extra });
    h.membership.merge({ online: [], offline: [entry(T0 - 900)] }, 'test');
    h.membership.merge({ online: [entry(T0 - 890)] }, 'test');
    h.membership.merge({ online: [], suspect: [entry(T0 - 880, { by: HELPERS[0] })] }, 'test');
    h.clock.now += MIN_SUSPICION_MS + 1;
    expect(stateOf(h.victim())).toBe('suspect');
    expect(h.membership.flapFactor(VICTIM, h.clock.now)).toBe(1);
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'refused', target: VICTIM });
  });

  it.each([
    ['the second direct probe timed out', ['refused', 'silent']],
    ['the first direct probe timed out', ['silent', 'refused']],
  ] as const)('%s (the helpers were all refused) → a suspicion, not an offline', async (_case, direct) => {
    const h = established();
    h.script.direct.push(...direct);
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it('a member we learnt of less than the minimum suspicion timeout ago, that never answered us → "starting": neither offline nor suspect', async () => {
    const h = harness();
    h.clock.now += MIN_SUSPICION_MS; // not more than the minimum: still new
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'starting', target: VICTIM });
    expect(stateOf(h.victim())).toBe('alive');
    expect(h.detector.stats).toMatchObject({ declaredOffline: 0, suspicionsRaised: 0 });
  });

  it('a member that answered one of our probes is established at once, however new', async () => {
    const h = harness();
    h.script.direct.push('ack');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'alive', target: VICTIM, via: 'direct' });
    expect(h.peers.hasAnswered(VICTIM)).toBe(true);
    // the next cycle reaches it again after the three helpers
    for (let i = 0; i < 3; i++) expect(await h.detector.probe(h.clock.now)).toMatchObject({ kind: 'alive', via: 'direct' });
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'refused', target: VICTIM });
  });

  it('a restarted member (a new process at the same URL) loses what its predecessor earned: it is new again', async () => {
    const h = established();
    h.peers.noteAnswered(VICTIM);
    h.membership.merge({ online: [{ baseUrl: VICTIM, monitor: false, lastUpdate: h.clock.now, generation: h.clock.now }] }, 'test');
    expect(h.peers.hasAnswered(VICTIM)).toBe(false);
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'starting', target: VICTIM });
  });

  it('fastFailOnRefusal: false → a suspicion, not an offline', async () => {
    const h = established({ fastFailOnRefusal: false });
    const outcome = await h.detector.probe(h.clock.now);
    expect(outcome).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it('a member already suspect is taken offline by the fast path too', async () => {
    const h = established();
    h.membership.merge({ online: [], suspect: [{ baseUrl: VICTIM, monitor: false, by: HELPERS[0], lastUpdate: T0 - 1000, generation: T0 - 1000 }] }, 'test');
    expect(stateOf(h.victim())).toBe('suspect');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'refused', target: VICTIM });
    expect(h.victim()).toMatchObject({ online: false, by: SELF });
  });
});

describe('probe outcomes besides refusals', () => {
  it('a direct ack lowers our health score; an ack only through a helper or the second probe raises it', async () => {
    const h = established();
    h.awareness.raise();
    h.awareness.raise();
    h.script.direct.push('ack');
    expect(await h.detector.probe(h.clock.now)).toMatchObject({ kind: 'alive', via: 'direct' });
    expect(h.awareness.score).toBe(1);
    // the three helpers answer directly: the score falls to 0 and stays there
    for (let i = 0; i < 3; i++) await h.detector.probe(h.clock.now);
    expect(h.awareness.score).toBe(0);
    h.script.direct.push('silent', 'ack');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'alive', target: VICTIM, via: 'retry' });
    expect(h.awareness.score).toBe(1);
    expect(h.detector.stats).toMatchObject({ probesSent: 5, probesFailed: 1 });
  });

  it('nobody answered and nothing was refused → a suspicion raised by us; our own later confirmation is not counted twice', async () => {
    const h = established();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.membership.suspicion(VICTIM)?.confirmers).toEqual(new Set([SELF]));
    expect(h.detector.stats.suspicionsRaised).toBe(1);
    // the cycle comes round again: still silent, and we already suspect it
    for (let i = 0; i < 3; i++) await h.detector.probe(h.clock.now);
    h.script.direct.push('silent', 'silent');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.detector.stats.suspicionsRaised).toBe(1);
  });

  it('with nothing online but us, the probe goes to a seed or offline server: unreachable, then reconnected', async () => {
    const h = harness({}, []);
    h.peers.addSeeds([VICTIM]);
    h.script.direct.push('silent', 'ack');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'unreachable', target: VICTIM });
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'reconnected', target: VICTIM });
  });

  it('a probe that came back later than its timeouts and an interval allow is withheld and degrades our health', async () => {
    const h = established();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    const started = h.clock.now;
    const probing = h.detector.probe(started);
    // 500 ms direct + 1000 ms second attempt + 1000 ms interval: anything later is our own lateness
    h.clock.now = started + 2501;
    expect(await probing).toEqual({ kind: 'withheld', target: VICTIM });
    expect(stateOf(h.victim())).toBe('alive');
    expect(h.awareness.score).toBe(1);
    expect(h.awareness.isQuiet(h.clock.now)).toBe(true);
    expect(h.detector.stats.accusationsWithheld).toBe(1);
  });
});

/** Whether a suspicion at N members with `confirmations` confirmations (ours first) has run out `ms` after it started. */
async function expiredAfter(n: number, confirmations: number, ms: number): Promise<boolean> {
  const others = Array.from({ length: n - 1 }, (_, i) => `http://m${i}:1/`);
  const h = harness({}, others);
  const suspect = others[0];
  for (const declarer of [SELF, ...others.slice(1)].slice(0, confirmations + 1)) {
    h.membership.merge({ online: [], suspect: [{ baseUrl: suspect, monitor: false, by: declarer, lastUpdate: T0 - 1000, generation: T0 - 1000 }] }, 'test');
  }
  expect(h.membership.suspicion(suspect)?.confirmers.size).toBe(confirmations + 1);
  h.clock.now += ms;
  await h.detector.probe(h.clock.now); // a probe tick expires suspicions first
  return h.membership.get(suspect)!.online === false;
}

/** The first whole ms at which the detector declares a suspect offline (each step on a fresh harness); fails when it never does. */
async function expiryMs(n: number, confirmations: number): Promise<number> {
  let low = 0;
  let high = 200_000;
  if (!(await expiredAfter(n, confirmations, high))) throw new Error(`a suspicion at N = ${n} did not expire within ${high} ms`);
  if (await expiredAfter(n, confirmations, low)) throw new Error(`a suspicion at N = ${n} expired at once`);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await expiredAfter(n, confirmations, mid)) high = mid;
    else low = mid;
  }
  return high;
}

describe("the detector's suspicion timeout (Lifeguard), in ms with a 1 s interval", () => {
  // expected values written out: min = 4 · max(1, log10 N) s, max = 6 · min, and
  // max − (max − min) · ln(c + 1) / ln(4) for c < 3 confirmations (floored), min from 3 on
  it.each([
    // N = 2 and 4: too few others to confirm, so no waiting for confirmations: the minimum,
    // floored at 4 s (without the floor of log10 N at 1, N = 2 would wait 1.2 s)
    [2, 0, 4000],
    [4, 0, 4000],
    [4, 2, 4000],
    // N = 5: three others could confirm
    [5, 0, 24_000],
    [5, 1, 14_000],
    [5, 2, 8150],
    [5, 3, 4000],
  ])('N = %i with %i confirmations: %i ms', async (n, confirmations, expected) => {
    expect(await expiryMs(n, confirmations)).toBe(expected);
  });

  // N = 100: min 8 s, max 48 s, reached with 3 confirmations; more change nothing
  it.each([
    [0, 48_000],
    [1, 28_000],
    [2, 16_300],
    [3, 8000],
    [4, 8000],
    [5, 8000],
    [6, 8000],
    [7, 8000],
    [8, 8000],
    [9, 8000],
    [10, 8000],
  ])('N = 100 with %i confirmations: %i ms', async (confirmations, expected) => {
    expect(await expiryMs(100, confirmations)).toBe(expected);
  });

  it('a flapping member waits (1 + penalty − threshold) times as long, the penalty decaying meanwhile', async () => {
    const others = ['http://m0:1/', 'http://m1:1/', 'http://m2:1/', 'http://m3:1/'];
    const run = async (transitions: boolean[], ms: number) => {
      const h = harness({}, others);
      const suspect = others[0];
      let stamp = T0 - 900;
      for (const online of transitions) {
        const entry = { baseUrl: suspect, monitor: false, lastUpdate: stamp, generation: T0 - 1000 };
        h.membership.merge(online ? { online: [entry] } : { online: [], offline: [entry] }, 'test');
        stamp += 10;
      }
      h.membership.merge({ online: [], suspect: [{ baseUrl: suspect, monitor: false, by: SELF, lastUpdate: stamp, generation: T0 - 1000 }] }, 'test');
      const penalty = transitions.length + 1;
      expect(h.membership.flapFactor(suspect, h.clock.now)).toBeCloseTo(Math.max(1, penalty - 2), 10);
      h.clock.now += ms;
      await h.detector.probe(h.clock.now);
      return stateOf(h.membership.get(suspect)!);
    };
    // not flapping: 24 s at N = 5
    expect(await run([], 23_999)).toBe('suspect');
    expect(await run([], 24_000)).toBe('offline');
    // penalty 5 at the start, halving every 60 s: the timeout 24 s · (1 + penalty − 3) meets the
    // elapsed time at about 33.4 s (at 30 s it is 36.9 s; at 34 s, 33.0 s)
    expect(await run([false, true, false, true], 30_000)).toBe('suspect');
    expect(await run([false, true, false, true], 33_000)).toBe('suspect');
    expect(await run([false, true, false, true], 34_000)).toBe('offline');
  });

  it('a quiet period (our own timers ran late) expires nobody', async () => {
    const others = ['http://m0:1/', 'http://m1:1/', 'http://m2:1/'];
    const h = harness({}, others);
    h.membership.merge({ online: [], suspect: [{ baseUrl: others[0], monitor: false, by: SELF, lastUpdate: T0 - 1000, generation: T0 - 1000 }] }, 'test');
    h.clock.now += 3000;
    h.awareness.degrade(h.clock.now); // quiet for 2 intervals
    h.clock.now += 1999;
    await h.detector.probe(h.clock.now);
    expect(stateOf(h.membership.get(others[0])!)).toBe('suspect');
  });
});

const OFFLINE = 'http://gone:1/';
const member = (baseUrl: string, extra: Partial<MemberEntry> = {}): MemberEntry => ({ baseUrl, monitor: false, online: true, lastUpdate: T0 - 1000, generation: T0 - 1000, ...extra });
const goneEntry = (baseUrl: string) => ({ baseUrl, monitor: false, lastUpdate: T0 - 1000, generation: T0 - 1000 });

describe('what gets probed: the round-robin cycle, and the reserve of offline servers and seeds', () => {
  it('alone, with no offline server and no seed: idle, nothing sent', async () => {
    const h = harness({}, []);
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'idle' });
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'idle' });
    expect(h.sent).toEqual([]);
  });

  it('alone, the reserve holds the offline servers (not ourselves), one drawn at random · length', async () => {
    const pick = async (draw: number) => {
      const h = harness({}, []);
      h.membership.merge({ online: [], offline: [goneEntry(OFFLINE), goneEntry('http://gone2:1/')] }, 'test');
      h.draws.push(draw);
      return h.detector.probe(h.clock.now);
    };
    expect(await pick(0)).toEqual({ kind: 'reconnected', target: OFFLINE });
    expect(await pick(0.999)).toEqual({ kind: 'reconnected', target: 'http://gone2:1/' });
  });

  it('an offline server is probed as reserve; our own entry is not, even while we are offline ourselves', async () => {
    const h = harness({}, []);
    h.membership.setOnline(false);
    h.membership.merge({ online: [], offline: [goneEntry(OFFLINE)] }, 'test');
    h.draws.push(0);
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'reconnected', target: OFFLINE });
    expect(h.sent).toEqual([{ peer: OFFLINE }]);
  });

  it('with an online peer known and offlineProbeProbability 0, the online member is probed, never an offline one', async () => {
    const h = established();
    h.membership.merge({ online: [], offline: [goneEntry(OFFLINE)] }, 'test');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'refused', target: VICTIM });
    expect(h.sent.some((s) => s.peer === OFFLINE)).toBe(false);
  });

  it('a draw below offlineProbeProbability probes the reserve instead; a draw equal to it does not', async () => {
    const run = async (...draws: number[]) => {
      const h = established({ offlineProbeProbability: 0.5 });
      h.membership.merge({ online: [], offline: [goneEntry(OFFLINE)] }, 'test');
      h.draws.push(...draws);
      return h.detector.probe(h.clock.now);
    };
    // the second draw picks the reserve's member
    expect(await run(0.4999, 0)).toEqual({ kind: 'reconnected', target: OFFLINE });
    expect(await run(0.5)).toEqual({ kind: 'refused', target: VICTIM });
  });

  it('the reserve holds offline servers and seeds not in the view: never an online member, nor a seed already in it', async () => {
    for (const draw of [0, 0.999]) {
      const h = established({ offlineProbeProbability: 1 });
      h.peers.addSeeds([HELPERS[0]]);
      h.membership.merge({ online: [], offline: [goneEntry(OFFLINE)] }, 'test');
      h.draws.push(0, draw);
      expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'reconnected', target: OFFLINE });
    }
  });

  it('a member that went offline or left the view after the cycle was drawn is skipped', async () => {
    const h = established();
    h.script.direct.push('ack');
    expect(await h.detector.probe(h.clock.now)).toMatchObject({ kind: 'alive', target: VICTIM });
    // the cycle is victim, h1, h2, h3: h1 is declared offline by someone else, h2 leaves the view
    h.membership.merge({ online: [], offline: [{ ...goneEntry(HELPERS[0]), by: HELPERS[2] }] }, 'test');
    h.membership.remove(HELPERS[1], 'test');
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'alive', target: HELPERS[2], via: 'direct' });
  });

  it('a late probe tick restarts every running suspicion and raises our score; a timely one does not', async () => {
    const h = established();
    h.membership.merge({ online: [], suspect: [member(VICTIM, { suspect: true, by: HELPERS[0] })] }, 'test');
    const started = h.membership.suspicion(VICTIM)!.startedAt;
    h.detector.beginTick(h.clock.now);
    // due an interval later, with 500 ms (the probe timeout) of slack at score 0
    h.detector.beginTick(h.clock.now + 1500);
    expect(h.membership.suspicion(VICTIM)!.startedAt).toBe(started);
    expect(h.awareness.score).toBe(0);
    h.detector.beginTick(h.clock.now + 3001);
    expect(h.membership.suspicion(VICTIM)!.startedAt).toBe(h.clock.now + 3001);
    expect(h.awareness.score).toBe(1);
  });
});

describe('probe details: counting, answers, page-format peers', () => {
  it('an answer without ack: true is no ack: the member is not alive by it, and not noted as answering', async () => {
    const h = established();
    h.script.direct.push('nack', 'nack');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.peers.hasAnswered(VICTIM)).toBe(false);
  });

  it('counts one sent and one failed probe per interval: the second direct attempt is not counted', async () => {
    const h = established();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    await h.detector.probe(h.clock.now);
    expect(h.detector.stats).toMatchObject({ probesSent: 1, probesFailed: 1 });
  });

  it('a probe asked of us by another server (probeFor) is not counted as ours', async () => {
    const h = established();
    h.script.direct.push('silent');
    expect(await h.detector.probeFor(VICTIM)).toBe('silent');
    expect(await h.detector.probeFor(VICTIM)).toBe('refused');
    expect(h.detector.stats).toMatchObject({ probesSent: 0, probesFailed: 0 });
  });

  it("a probe asked of us reports 'silent' for a timeout, an answer without ack and a page-format peer's failed exchange", async () => {
    const h = established();
    h.script.direct.push('silent', 'nack', 'ack');
    expect(await h.detector.probeFor(VICTIM)).toBe('silent');
    expect(await h.detector.probeFor(VICTIM)).toBe('silent');
    expect(await h.detector.probeFor(VICTIM)).toBe('ack');
    h.peers.markPageFormat(HELPERS[0]);
    expect(await h.detector.probeFor(HELPERS[0])).toBe('silent');
    expect(h.gossipChecks).toEqual([HELPERS[0]]);
  });

  it("a page-format peer is checked by the page's gossip exchange, not a probe; its failure is counted once", async () => {
    const h = established();
    h.peers.markPageFormat(VICTIM);
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.gossipChecks).toEqual([VICTIM, VICTIM]);
    expect(h.sent.filter((s) => s.peer === VICTIM)).toEqual([]);
    expect(h.detector.stats).toMatchObject({ probesSent: 1, probesFailed: 1 });
  });

  it('a suspicion that runs out is counted as declared offline by us', async () => {
    expect(await expiredAfter(5, 0, 24_000)).toBe(true);
    const others = ['http://m0:1/', 'http://m1:1/', 'http://m2:1/', 'http://m3:1/'];
    const h = harness({}, others);
    h.membership.merge({ online: [], suspect: [member(others[0], { suspect: true, by: SELF })] }, 'test');
    h.clock.now += 24_000;
    await h.detector.probe(h.clock.now);
    expect(h.membership.get(others[0])).toMatchObject({ online: false, by: SELF });
    expect(h.detector.stats.declaredOffline).toBe(1);
  });
});

describe('verdicts besides the fast path', () => {
  it('a probe that took exactly its timeouts and an interval (2500 ms) is judged, not withheld', async () => {
    const h = established();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    const started = h.clock.now;
    const probing = h.detector.probe(started);
    h.clock.now = started + 2500;
    expect(await probing).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.awareness.score).toBe(0);
  });

  it('while quiet, or after our membership stopped, an accusation is withheld without degrading our health again', async () => {
    const quiet = established();
    quiet.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) quiet.script.helpers[helper] = 'silent';
    quiet.awareness.degrade(quiet.clock.now);
    expect(await quiet.detector.probe(quiet.clock.now)).toEqual({ kind: 'withheld', target: VICTIM });
    expect(quiet.awareness.score).toBe(1);
    expect(stateOf(quiet.victim())).toBe('alive');

    const stopped = established();
    stopped.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) stopped.script.helpers[helper] = 'silent';
    stopped.membership.stop();
    const started = stopped.clock.now;
    const probing = stopped.detector.probe(started);
    stopped.clock.now = started + 2500; // exactly the lateness bound: not late
    expect(await probing).toEqual({ kind: 'withheld', target: VICTIM });
    expect(stopped.awareness.score).toBe(0);
    expect(stopped.awareness.isQuiet(stopped.clock.now)).toBe(false);
    expect(stopped.detector.stats.accusationsWithheld).toBe(1);
  });

  it('a member declared offline by another server while our probe was out is not declared again by us', async () => {
    const h = established();
    h.hooks.onSend = (peer, target) => {
      if (peer === VICTIM && target === undefined && h.sent.filter((s) => s.peer === VICTIM).length === 2) {
        h.membership.merge({ online: [], offline: [{ ...goneEntry(VICTIM), by: HELPERS[0] }] }, 'test');
      }
    };
    await h.detector.probe(h.clock.now);
    expect(h.victim()).toMatchObject({ online: false, by: HELPERS[0] });
    expect(h.detector.stats).toMatchObject({ declaredOffline: 0, refusalsConfirmed: 0, suspicionsRaised: 0 });
  });

  it('a new member that times out (no refusal) is suspected: "starting" is only for one that refuses', async () => {
    const h = harness();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(stateOf(h.victim())).toBe('suspect');
  });

  it("a member suspected by another that we find silent too gets our confirmation", async () => {
    const h = established();
    h.membership.merge({ online: [], suspect: [member(VICTIM, { suspect: true, by: HELPERS[0] })] }, 'test');
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.membership.suspicion(VICTIM)?.confirmers).toEqual(new Set([HELPERS[0], SELF]));
    expect(h.detector.stats.suspicionsRaised).toBe(1);
  });

  it('a member preloaded as suspect (no suspicion running here) that we find silent gets a suspicion of ours', async () => {
    const h = established();
    h.membership.preload([member(VICTIM, { suspect: true, by: HELPERS[0] })]);
    expect(h.membership.suspicion(VICTIM)).toBeUndefined();
    h.script.direct.push('silent', 'silent');
    for (const helper of HELPERS) h.script.helpers[helper] = 'silent';
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'suspected', target: VICTIM });
    expect(h.membership.suspicion(VICTIM)?.confirmers.has(SELF)).toBe(true);
    expect(h.detector.stats.suspicionsRaised).toBe(1);
  });

  it('a preloaded member (known before this server counted) is established: refused everywhere → offline at once', async () => {
    const h = harness({}, HELPERS);
    h.membership.preload([member(VICTIM)]);
    expect(h.peers.knownSince(VICTIM)).toBeUndefined();
    // the cycle is h1, h2, h3 (answering), then the preloaded victim
    for (let i = 0; i < 3; i++) expect(await h.detector.probe(h.clock.now)).toMatchObject({ kind: 'alive' });
    expect(await h.detector.probe(h.clock.now)).toEqual({ kind: 'refused', target: VICTIM });
  });
});

describe('indirect-probe helpers', () => {
  it('are alive members only: a suspect, a page-format peer, the target and ourselves are never asked', () => {
    const h = established();
    h.membership.merge({ online: [], suspect: [member(HELPERS[1], { suspect: true, by: HELPERS[0] })] }, 'test');
    h.peers.markPageFormat(HELPERS[2]);
    expect(h.detector.helpers(VICTIM, 3)).toEqual([HELPERS[0]]);
  });

  /** 20 online members m0…m19 (and one offline), probed once so the cycle (m0…m19 in view order) is drawn. */
  async function bigView() {
    const others = Array.from({ length: 20 }, (_, i) => `http://m${i}:1/`);
    const h = harness({}, []);
    h.membership.merge({ online: [], offline: [goneEntry(OFFLINE)] }, 'test');
    h.membership.merge({ online: others.map((url) => member(url)) }, 'test');
    expect(await h.detector.probe(h.clock.now)).toMatchObject({ kind: 'alive', target: others[0] });
    return { h, others };
  }

  it('in a view over 4 · count, are drawn from the probe cycle: draw i picks member ⌊draw · 20⌋, skipping the target and repeats', async () => {
    const { h, others } = await bigView();
    const at = (i: number) => (i + 0.5) / 20;
    // m5, m0 (the target: skipped), m5 again (skipped), m7, m9: three drawn, no walk of the view
    h.draws.push(at(5), at(0), at(5), at(7), at(9));
    expect(h.detector.helpers(others[0], 3)).toEqual([others[5], others[7], others[9]]);
    expect(h.draws).toEqual([]);
  });

  it('stop drawing after 8 · count draws that found nobody, and walk the view instead', async () => {
    const { h, others } = await bigView();
    // eight draws of the target; a ninth draw (m10) must not be taken
    h.draws.push(...Array<number>(8).fill(0), 10.5 / 20);
    const chosen = h.detector.helpers(others[0], 1);
    // the walk's shuffle took the ninth value first: j = ⌊0.525 · 19⌋ = 9 swapped to the end, the rest in view order
    expect(chosen).toEqual([others[1]]);
    expect(h.draws).toEqual([]);
  });

  it('in a view of at most 4 · count, the view is walked (shuffled), not sampled', async () => {
    const h = established();
    h.script.direct.push('ack');
    await h.detector.probe(h.clock.now); // the cycle: victim, h1, h2, h3
    // a draw of 0.999 in a sample would pick h3; in the walk's shuffle it keeps view order: h1 first
    h.draws.push(0.999, 0.999, 0.999);
    expect(h.detector.helpers(VICTIM, 1)).toEqual([HELPERS[0]]);
  });
});
