/**
 * The engine's log helpers: notifyAll (a throwing listener is logged, never propagated),
 * errorText (a message from anything thrown) and RateLimitedLog (warnings caused by remote
 * input, at most `perMinute` of a kind a minute, then one line saying how many were not
 * logged). The exact text an operator reads is pinned. Manual clock; no network.
 */
import { errorText, notifyAll, RateLimitedLog, type EngineLog } from '../../lib/core/engine-log.js';

function recorder() {
  const lines: string[] = [];
  const log: EngineLog = { warn: (m) => lines.push(`warn ${m}`), debug: (m) => lines.push(`debug ${m}`) };
  return { lines, log };
}

describe('notifyAll', () => {
  it('calls every listener with every change; one that throws is logged with its kind and message', () => {
    const { lines, log } = recorder();
    const heard: string[] = [];
    const listeners = [
      (c: string) => heard.push(`a ${c}`),
      () => {
        throw new Error('listener bug');
      },
      (c: string) => heard.push(`b ${c}`),
    ];
    notifyAll(listeners, ['x', 'y'], 'membership', log);
    expect(heard).toEqual(['a x', 'b x', 'a y', 'b y']);
    expect(lines).toEqual(['warn membership listener threw: listener bug', 'warn membership listener threw: listener bug']);
  });

  it('without a log, a listener that throws is still contained and the others still hear', () => {
    const heard: string[] = [];
    const listeners = [
      () => {
        throw new Error('listener bug');
      },
      (c: string) => heard.push(c),
    ];
    expect(() => notifyAll(listeners, ['x'], 'membership')).not.toThrow();
    expect(heard).toEqual(['x']);
  });
});

describe('errorText', () => {
  it('reads the message of an Error or of an object with a string message', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText({ message: 'plain object' })).toBe('plain object');
  });

  it('writes anything else as String() does: null, undefined, strings, numbers, a non-string message, a function', () => {
    expect(errorText(null)).toBe('null');
    expect(errorText(undefined)).toBe('undefined');
    expect(errorText('text thrown')).toBe('text thrown');
    expect(errorText(42)).toBe('42');
    expect(errorText({ message: 5 })).toBe('[object Object]');
    const fn = Object.assign(function thrown() {}, { message: 'a function is not read as an error' });
    expect(errorText(fn)).toBe(String(fn));
    expect(errorText(fn)).toContain('function thrown');
  });
});

describe('RateLimitedLog', () => {
  function limited(perMinute?: number) {
    const clock = { now: 1_000_000 };
    const { lines, log } = recorder();
    return { clock, lines, log: new RateLimitedLog(log, () => clock.now, perMinute) };
  }

  it('writes a kind 3 times a minute; the first line of the next minute says how many were not logged', () => {
    const { clock, lines, log } = limited();
    const start = clock.now;
    let built = 0;
    const line = (n: number) => () => {
      built++;
      return `peer sent stamps from the future (${n})`;
    };
    for (let n = 1; n <= 5; n++) log.warnEvery('future-stamp', line(n));
    clock.now = start + 59_999;
    log.warnEvery('future-stamp', line(6));
    expect(lines).toEqual(['warn peer sent stamps from the future (1)', 'warn peer sent stamps from the future (2)', 'warn peer sent stamps from the future (3)']);
    expect(built).toBe(3); // a suppressed line is never built
    // exactly a minute after the window opened: a new window
    clock.now = start + 60_000;
    log.warnEvery('future-stamp', line(7));
    expect(lines.slice(3)).toEqual(['warn (3 more like the next line in the last minute were not logged)', 'warn peer sent stamps from the future (7)']);
    // nothing was suppressed in this window: the next window opens without the count line
    clock.now = start + 120_000;
    log.warnEvery('future-stamp', line(8));
    expect(lines.slice(5)).toEqual(['warn peer sent stamps from the future (8)']);
  });

  it('counts each kind on its own, with the rate it was given', () => {
    const { lines, log } = limited(1);
    log.warnEvery('a', () => 'a1');
    log.warnEvery('a', () => 'a2');
    log.warnEvery('b', () => 'b1');
    expect(lines).toEqual(['warn a1', 'warn b1']);
  });

  it('keeps at most 256 kinds: the oldest one is forgotten when a 257th arrives', () => {
    const { lines, log } = limited();
    for (let i = 0; i < 4; i++) log.warnEvery('k0', () => `k0 ${i}`);
    expect(lines).toEqual(['warn k0 0', 'warn k0 1', 'warn k0 2']);
    for (let k = 1; k < 256; k++) log.warnEvery(`k${k}`, () => `k${k}`);
    lines.length = 0;
    log.warnEvery('k0', () => 'k0 with 256 kinds');
    expect(lines).toEqual([]); // 256 kinds are kept: k0 is still over its rate
    log.warnEvery('k256', () => 'k256');
    log.warnEvery('k0', () => 'k0 forgotten');
    // the 257th kind pushed k0 (the oldest) out: it starts afresh, its count lost with it
    expect(lines).toEqual(['warn k256', 'warn k0 forgotten']);
  });

  it('passes plain warnings and debug lines through at once; without a log it writes nothing and never throws', () => {
    const { lines, log } = limited();
    log.warn('w');
    log.debug('d');
    expect(lines).toEqual(['warn w', 'debug d']);
    const silent = new RateLimitedLog(undefined, () => 0);
    let built = 0;
    expect(() => {
      silent.warn('w');
      silent.debug('d');
      silent.warnEvery('k', () => String(++built));
    }).not.toThrow();
    expect(built).toBe(0);
  });
});
