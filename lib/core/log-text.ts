/**
 * Text from the network in log lines (OWASP Logging Cheat Sheet, "Event data sanitization";
 * CWE-117): a peer or client must not be able to write a line of its own, hide text from a
 * terminal or make a log line arbitrarily long.
 */

/** Longest piece of remote text a log line carries; the rest becomes `…`. */
export const MAX_LOGGED_TEXT = 200;

/**
 * Characters escaped in log text: C0 and C1 controls and DEL (line breaks, terminal escape
 * sequences), Unicode format characters (bidirectional overrides, zero-width characters),
 * the line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Remote text for a log line without quotes (an error reason, a count): unsafe characters as
 * `\uXXXX`, at most `max` characters. Plain text comes out unchanged.
 */
export function escapeForLog(text: unknown, max = MAX_LOGGED_TEXT): string {
  return cut(String(text), max).replace(UNSAFE, escapeChar);
}

/**
 * Remote text for a log line as a quoted string (a key, an address): `"…"` with quotes and
 * backslashes escaped too, so where the value ends is never in doubt.
 */
export function quoteForLog(text: unknown, max = MAX_LOGGED_TEXT): string {
  return `"${cut(String(text), max).replace(/["\\]/g, (c) => `\\${c}`).replace(UNSAFE, escapeChar)}"`;
}
