/**
 * Remote text in log lines (lib/core/log-text.ts, CWE-117): the exact text an operator reads,
 * for plain text, unsafe characters, quotes and backslashes, and text over the length limit.
 */
import { escapeForLog, MAX_LOGGED_TEXT, quoteForLog } from '../../lib/core/log-text.js';

describe('escapeForLog', () => {
  it('leaves plain text as it is', () => {
    expect(escapeForLog('peer answered 503: "busy" \\ retry')).toBe('peer answered 503: "busy" \\ retry');
    expect(escapeForLog(404)).toBe('404');
    expect(escapeForLog('')).toBe('');
  });

  it('writes line breaks, terminal escapes, format characters and lone surrogates as \\uXXXX, four hex digits', () => {
    expect(escapeForLog('a\nb\r\u001b[31mc\u007f\u0085')).toBe('a\\u000ab\\u000d\\u001b[31mc\\u007f\\u0085');
    expect(escapeForLog('x\u202ey\u200bz\u2028\u2029')).toBe('x\\u202ey\\u200bz\\u2028\\u2029');
    expect(escapeForLog('lone \ud800 surrogate')).toBe('lone \\ud800 surrogate');
    expect(escapeForLog('\u0000')).toBe('\\u0000');
    // a pair is one character, not escaped
    expect(escapeForLog('emoji \u{1f600}')).toBe('emoji \u{1f600}');
  });

  it(`keeps text of ${MAX_LOGGED_TEXT} characters whole; cuts longer text to ${MAX_LOGGED_TEXT} followed by …`, () => {
    expect(MAX_LOGGED_TEXT).toBe(200);
    const exact = 'a'.repeat(200);
    expect(escapeForLog(exact)).toBe(exact);
    expect(escapeForLog('b'.repeat(199))).toBe('b'.repeat(199));
    expect(escapeForLog(`${exact}XYZ`)).toBe(`${exact}…`);
    expect(escapeForLog('abcdef', 3)).toBe('abc…');
    expect(escapeForLog('abc', 3)).toBe('abc');
    expect(escapeForLog('ab', 3)).toBe('ab');
  });
});

describe('quoteForLog', () => {
  it('quotes the text, escaping quotes and backslashes so the end of the value is never in doubt', () => {
    expect(quoteForLog('plain key')).toBe('"plain key"');
    expect(quoteForLog('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(quoteForLog('')).toBe('""');
    expect(quoteForLog(undefined)).toBe('"undefined"');
  });

  it('escapes unsafe characters and cuts long text inside the quotes', () => {
    expect(quoteForLog('k\ny')).toBe('"k\\u000ay"');
    expect(quoteForLog('abcdef', 4)).toBe('"abcd…"');
    expect(quoteForLog('x'.repeat(201))).toBe(`"${'x'.repeat(200)}…"`);
  });
});
