/**
 * Key/value state on the wire: its types, the checks of what crosses it (keys, limits, deltas),
 * sizes, and the conversion between a key as a server holds it (a slot) and as it travels.
 */
import type { StateLimits } from './engine-settings.js';

/** A key/value value: any JSON (no NaN or Infinity, no class instances, nested at most 32 deep). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One key on the wire. No `value` and `deleted` set: a tombstone (`expired` when the owner's expiry made it). */
export interface StateEntry {
  key: string;
  version: number;
  value?: JsonValue;
  /** Time left to live, ms, relative to when the message was sent: no clock has to agree with another. */
  ttlMs?: number;
  deleted?: boolean;
  expired?: boolean;
}

/**
 * Key/value changes of one server (scuttlebutt's delta): its entries with a version in
 * (from, to], ascending, so whoever held everything up to `from` now holds everything up to
 * `to`. With `floor` it is a reset: `entries` lists every key the sender holds with a version
 * up to `to`, and keys not listed are gone (their tombstones were reaped, or the server
 * restarted).
 */
export interface StateDelta {
  server: string;
  from: number;
  to: number;
  floor?: number;
  /**
   * The generation of the process that wrote these keys (its start stamp, as in its membership
   * entry). A server restarted at the same URL is a new process: its predecessor's keys are
   * dropped, never compared with its own by version (the clocks behind them may disagree).
   */
  generation?: number;
  entries: StateEntry[];
}

/**
 * The longest time to live a key may have: 2^31 − 1 ms (about 24.8 days), the longest delay
 * of a JavaScript timer. A value travels with its time left to live in whole ms (`ttlMs`).
 */
export const MAX_STATE_TTL_MS = 2 ** 31 - 1;

/** A key/value call that breaks a limit or gets a value that is not JSON. */
export class StateValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateValueError';
  }
}

/**
 * Characters a key may not hold: controls (C0, C1, DEL), format characters (bidirectional
 * overrides, zero-width characters), line and paragraph separators, lone surrogates. Keys
 * appear in logs and terminals; these would let a peer forge lines or hide text there
 * (OWASP: log injection). Everything else, spaces and any script included, is allowed.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * Why `key` cannot be a key/value key, or null: a non-empty string of at most `maxLength`
 * printable characters, and not `__proto__` (which plain objects would take as their
 * prototype: OWASP, prototype pollution). Shared by the engine and the wire DTOs.
 */
export function keyProblem(key: unknown, maxLength: number): string | null {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxLength) return `key must be a non-empty string of at most ${maxLength} characters`;
  if (UNPRINTABLE.test(key)) return 'key must hold printable characters only (no control, format or line-separator characters)';
  if (key === '__proto__') return 'key "__proto__" is reserved';
  return null;
}

/**
 * Keys a value may not hold at any depth. class-transformer, which turns every body a server
 * receives into its DTOs (the controllers' ValidationPipe, validateBody), skips own keys named
 * `__proto__` and `constructor` (and throws on a `constructor` that is not a function): a value
 * holding one would reach peers changed or not at all, while its writer keeps it. `prototype`
 * passes through unchanged and stays allowed.
 */
export const RESERVED_VALUE_KEYS: readonly string[] = ['__proto__', 'constructor'];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Where a reserved key (RESERVED_VALUE_KEYS) sits inside a JSON value, as a path such as
 * `value.limits[2].__proto__`, or null when it holds none. Own keys only: a value parsed from
 * JSON (`{"__proto__":…}`) holds `__proto__` as an own key; an object literal sets the prototype
 * instead, and that is no key. Iterative, so a deep value cannot overflow the stack.
 */
export function reservedKeyPath(value: unknown): string | null {
  const pending: [unknown, string][] = [[value, 'value']];
  while (pending.length) {
    const [node, path] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (RESERVED_VALUE_KEYS.includes(key)) return at;
      pending.push([(node as Record<string, unknown>)[key], at]);
    }
  }
  return null;
}

/** The message for a value holding a reserved key at `path` (the writer's error and the receiver's refusal). */
export function reservedKeyProblem(path: string): string {
  const key = path.slice(path.lastIndexOf('.') + 1);
  return `value holds a key named "${key}" at ${path}: keys named "__proto__" or "constructor" are refused at any depth of a value, since peers' validation (class-transformer) would drop them`;
}

export interface Slot {
  version: number;
  value?: JsonValue;
  deleted?: 'deleted' | 'expired';
  /** Local time at which the value expires. */
  expiresAt?: number;
  /** Expired here already (the owner's tombstone may not have arrived). */
  expiredHere?: boolean;
  /** Local time after which a tombstone or expired key is forgotten. */
  reapAt?: number;
}

/**
 * What one key can take in a delta, whichever form it is in: its live form
 * {"key":…,"version":…,"value":…,"ttlMs":…} or its tombstone {"key":…,"version":…,"deleted":true,"expired":true},
 * with a separating comma. `valueBytes`: bytes of the value's JSON (0 for a tombstone).
 */
export function entryCost(key: string, valueBytes: number): number {
  return Buffer.byteLength(JSON.stringify(key)) + valueBytes + 72;
}

/** Digits of a stamp (a version, floor or generation: ms since 1970, 13 digits until the year 2286). */
const STAMP_DIGITS = 13;
/** A reset delta's fields besides the server URL and the entries, with its three stamps: 103 bytes. */
const RESET_FIELDS_BYTES = '{"server":"","from":0,"to":,"floor":,"generation":,"entries":[]}'.length + 3 * STAMP_DIGITS;

/** The envelope of a reset delta besides its entries: {"server":…,"from":0,"to":…,"floor":…,"generation":…,"entries":[]}. */
export function resetEnvelope(server: string): number {
  return Buffer.byteLength(server) + RESET_FIELDS_BYTES;
}

/** Size of a JSON value when serialised, or throws when it is not JSON (cycles, functions, NaN…). */
export function jsonSize(value: unknown): number {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StateValueError(`value is not JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new StateValueError('value is not JSON (undefined, a function or a symbol)');
  return Buffer.byteLength(text);
}

/** A slot's worst-case cost in a reset: its value now, or the tombstone it may become. */
export function slotCost(key: string, slot: Slot): number {
  return entryCost(key, slot.value === undefined ? 0 : jsonSize(slot.value));
}

export function toWireEntry(key: string, slot: Slot, now: number): StateEntry {
  if (slot.deleted) return slot.deleted === 'expired' ? { key, version: slot.version, deleted: true, expired: true } : { key, version: slot.version, deleted: true };
  const entry: StateEntry = { key, version: slot.version, value: slot.value };
  // whole ms, rounded up: a fraction would be refused by a peer's validation, and rounding down could end the key early
  if (slot.expiresAt !== undefined) entry.ttlMs = Math.max(0, Math.ceil(slot.expiresAt - now));
  else if (slot.expiredHere) entry.ttlMs = 0;
  return entry;
}

export function fromWireEntry(entry: StateEntry, now: number, graceMs: number): Slot {
  if (entry.deleted) return { version: entry.version, deleted: entry.expired ? 'expired' : 'deleted', reapAt: now + graceMs };
  const slot: Slot = { version: entry.version, value: structuredClone(entry.value ?? null) };
  if (entry.ttlMs !== undefined) {
    slot.expiresAt = now + entry.ttlMs;
    if (entry.ttlMs <= 0) {
      slot.expiredHere = true;
      slot.reapAt = now + graceMs;
    }
  }
  return slot;
}

const isVersion = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Why a delta from the wire is refused (the DTOs check types; this checks meaning and limits), or null. */
export function invalidDelta(delta: StateDelta, limits: StateLimits, acceptable: (v: number) => boolean): string | null {
  if (!delta || typeof delta.server !== 'string' || !isVersion(delta.from) || !isVersion(delta.to) || delta.to < delta.from) return 'malformed delta';
  if (delta.floor !== undefined && (!isVersion(delta.floor) || delta.floor > delta.to)) return 'floor above to';
  if (!Array.isArray(delta.entries) || delta.entries.length > limits.maxKeysPerServer) return `more than ${limits.maxKeysPerServer} keys`;
  if (!acceptable(delta.to)) return 'versions stamped too far in the future';
  for (const e of delta.entries) {
    // the key is named in what follows only once it is known to be printable, and then quoted
    const problem = e ? keyProblem(e.key, limits.maxKeyLength) : 'an entry is missing';
    if (problem) return problem;
    const key = JSON.stringify(e.key);
    if (!isVersion(e.version) || e.version > delta.to || e.version <= delta.from) return `key ${key}: version outside the delta`;
    if (e.ttlMs !== undefined && !isVersion(e.ttlMs)) return `key ${key}: bad ttlMs`;
    if (!e.deleted && e.value === undefined) return `key ${key}: no value`;
    if (!e.deleted && jsonSize(e.value) > limits.maxValueBytes) return `key ${key}: value over ${limits.maxValueBytes} bytes`;
    // a forged message (our writers refuse such values): stored, it would differ from the writer's
    const reserved = e.deleted ? null : reservedKeyPath(e.value);
    if (reserved) return `key ${key}: ${reservedKeyProblem(reserved)}`;
  }
  return null;
}
