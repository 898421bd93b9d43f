import { canonicalJson } from './canonical-json.js';
import type { StateLimits } from './engine-settings.js';
import { entryCost, fromWireEntry, invalidDelta, jsonSize, keyProblem, MAX_STATE_TTL_MS, reservedKeyPath, reservedKeyProblem, resetEnvelope, slotCost, StateValueError, toWireEntry, type JsonValue, type Slot, type StateDelta, type StateEntry } from './state-wire.js';
import type { ViewDigest } from './view-digest.js';

// the wire form lives in state-wire.ts; what the rest of the code (and the package) reads from here
export { jsonSize, keyProblem, MAX_STATE_TTL_MS, StateValueError, type JsonValue, type StateDelta, type StateEntry } from './state-wire.js';

/** A key/value change as the host sees it. `value` undefined: deleted. */
export type StateChange =
  | { type: 'update'; server: string; key: string; value: JsonValue | undefined; version: number }
  | { type: 'expire'; server: string; key: string; version: number };

interface ServerState {
  /** The generation (process) these keys come from; undefined when the writer did not say. */
  generation?: number;
  /** Every version up to this one is held (the watermark digests carry). */
  known: number;
  /** Versions up to this one were forgotten: a peer below it needs a reset. */
  floor: number;
  slots: Map<string, Slot>;
  /** What the slots take in a reset (sum of slotCost), kept current on every change. */
  bytes: number;
}

/** Rejects what JSON.stringify would silently change: NaN and Infinity (null), undefined in objects. */
function assertPlainJson(value: unknown, depth = 0): void {
  if (depth > 32) throw new StateValueError('value is nested deeper than 32 levels');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new StateValueError('value contains a number JSON cannot carry (NaN or Infinity)');
    return;
  }
  if (Array.isArray(value)) return value.forEach((v) => assertPlainJson(v, depth + 1));
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const v of Object.values(value as object)) assertPlainJson(v, depth + 1);
    return;
  }
  throw new StateValueError(`value is not JSON (${typeof value === 'object' ? 'a class instance' : typeof value})`);
}

/**
 * Every server's key/value state as this server holds it: last-writer-wins per key by
 * version (the owner's hybrid-clock stamps), a per-server watermark for digests, tombstones
 * so that nothing deleted comes back, and expiry by time-to-live counted on each server's own
 * clock. Only a key's owner writes it; everyone else learns it through deltas.
 */
export class ReplicatedState {
  private readonly servers = new Map<string, ServerState>();
  /** This process's first stamp: its state starts above anything a previous process of the same URL wrote. */
  private generation = 0;

  constructor(
    private readonly selfUrl: string,
    readonly limits: StateLimits,
    private readonly deps: {
      now: () => number;
      /** A fresh version: strictly above every stamp this server has seen. */
      tick: () => number;
      /** False for a version stamped too far in the future (the clock-skew bound). */
      acceptable: (version: number) => boolean;
      digest: ViewDigest;
    },
  ) {}

  /**
   * Marks the start of a generation of this process (its start, or its address taken back after
   * a conflict), with its fresh stamp. Keys written under an earlier generation are re-issued
   * under this one, as `refuteOwn` does: peers take keys only of the generation their view holds
   * at our URL, so keys left in the old one would be refused everywhere. Returns the reset that
   * lists them, to spread; null when there is nothing to re-issue.
   */
  startGeneration(stamp: number): StateDelta | null {
    this.generation = stamp;
    const own = this.servers.get(this.selfUrl);
    if (!own || own.generation === stamp) return null;
    own.generation = stamp;
    return this.refuteOwn();
  }

  /** The watermark of one server's state (0 when none). */
  knownVersion(server: string): number {
    return this.servers.get(server)?.known ?? 0;
  }

  /** The live value of a key, or undefined (absent, deleted or expired). */
  get(server: string, key: string): JsonValue | undefined {
    const slot = this.servers.get(server)?.slots.get(key);
    return slot && isLive(slot, this.deps.now()) ? structuredClone(slot.value) : undefined;
  }

  /** One server's live keys, in an object without a prototype: no key can reach Object.prototype's members. */
  entriesOf(server: string): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = Object.create(null);
    const now = this.deps.now();
    for (const [key, slot] of this.servers.get(server)?.slots ?? []) if (isLive(slot, now)) out[key] = structuredClone(slot.value!);
    return out;
  }

  /** Every server's live keys (servers without any are left out). */
  snapshot(): Record<string, Record<string, JsonValue>> {
    const out: Record<string, Record<string, JsonValue>> = Object.create(null);
    for (const server of this.servers.keys()) {
      const entries = this.entriesOf(server);
      if (Object.keys(entries).length) out[server] = entries;
    }
    return out;
  }

  /**
   * Sets a key of this server. `expiresAt` is a time on this server's clock; it travels as
   * time left to live. Returns the delta to broadcast and the change.
   */
  setLocal(key: string, value: JsonValue, expiresAt?: number): { delta: StateDelta; change: StateChange } {
    this.checkKey(key);
    assertPlainJson(value);
    const reserved = reservedKeyPath(value);
    if (reserved) throw new StateValueError(`value of "${key}" ${reservedKeyProblem(reserved).slice('value '.length)}`);
    // stored as it travels: objects with their keys sorted (the signed canonical JSON our senders
    // send), so every server, this one included, holds the same value down to its key order
    const text = canonicalJson(value);
    const size = Buffer.byteLength(text);
    if (size > this.limits.maxValueBytes) throw new StateValueError(`value of "${key}" is ${size} bytes; the limit is ${this.limits.maxValueBytes} (option maxStateValueBytes)`);
    const now = this.deps.now();
    if (expiresAt !== undefined && (!Number.isFinite(expiresAt) || expiresAt <= now)) throw new StateValueError(`expiresAt of "${key}" must be a time in the future`);
    // the time left travels as whole ms, a safe integer every peer's validation takes
    if (expiresAt !== undefined && expiresAt - now > MAX_STATE_TTL_MS) {
      throw new StateValueError(`expiresAt of "${key}" is more than ${MAX_STATE_TTL_MS} ms (about 24.8 days) away; the longest time to live is ${MAX_STATE_TTL_MS} ms`);
    }
    const own = this.own();
    if (!own.slots.has(key) && own.slots.size >= this.limits.maxKeysPerServer) {
      throw new StateValueError(`this server already holds ${own.slots.size} keys; the limit is ${this.limits.maxKeysPerServer} (option maxStateKeys)`);
    }
    // the whole state of a server must fit in one message: a reset lists every key, uncut
    const previous = own.slots.get(key);
    const total = resetEnvelope(this.selfUrl) + own.bytes - (previous ? slotCost(key, previous) : 0) + entryCost(key, size);
    if (total > (this.limits.maxBytesPerServer ?? Infinity)) {
      throw new StateValueError(
        `this server's state would take ${total} bytes with "${key}"; at most ${this.limits.maxBytesPerServer} fit in one message (raise messageBudgetBytes, or delete keys: deleted ones count until forgotten)`,
      );
    }
    const stored = JSON.parse(text) as JsonValue;
    const slot: Slot = { version: this.deps.tick(), value: stored };
    if (expiresAt !== undefined) slot.expiresAt = expiresAt;
    return { delta: this.writeOwn(key, slot, now), change: { type: 'update', server: this.selfUrl, key, value: structuredClone(stored), version: slot.version } };
  }

  /** Deletes a key of this server (a tombstone). Null when there was nothing to delete. */
  deleteLocal(key: string): { delta: StateDelta; change: StateChange } | null {
    this.checkKey(key);
    const now = this.deps.now();
    const current = this.servers.get(this.selfUrl)?.slots.get(key);
    if (!current || !isLive(current, now)) return null;
    const slot: Slot = { version: this.deps.tick(), deleted: 'deleted', reapAt: now + this.limits.tombstoneGraceMs };
    return { delta: this.writeOwn(key, slot, now), change: { type: 'update', server: this.selfUrl, key, value: undefined, version: slot.version } };
  }

  /**
   * Starts a new generation of this server's state, as a reset that lists what this server
   * holds now. Called when a peer turns out to hold state about this server that this server
   * does not have (a previous process at the same URL wrote it). Every key of ours is re-issued
   * with a fresh version, so that it beats the previous process's copy of the same key; the
   * caller first makes the clock observe the versions it heard, so the fresh ones are above
   * them (Cassandra's lesson: a start time is not a safe generation when clocks disagree).
   */
  refuteOwn(): StateDelta {
    const own = this.own();
    let version = 0;
    for (const [, slot] of [...own.slots].sort((a, b) => a[1].version - b[1].version)) slot.version = version = this.deps.tick();
    if (version === 0) version = this.deps.tick();
    this.setKnown(this.selfUrl, own, version);
    own.floor = version;
    return this.deltaFor(this.selfUrl, 0, Infinity)!;
  }

  /**
   * Expires keys whose time has come (the owner turns its own into tombstones, to broadcast)
   * and forgets tombstones past their grace period.
   */
  expire(): { changes: StateChange[]; deltas: StateDelta[] } {
    const now = this.deps.now();
    const changes: StateChange[] = [];
    const deltas: StateDelta[] = [];
    for (const [server, state] of this.servers) {
      for (const [key, slot] of [...state.slots]) {
        if (slot.reapAt !== undefined && slot.reapAt <= now) {
          forgetSlot(state, key, slot);
          continue;
        }
        if (slot.deleted || slot.expiresAt === undefined || slot.expiresAt > now || slot.expiredHere) continue;
        if (server === this.selfUrl) {
          const tombstone: Slot = { version: this.deps.tick(), deleted: 'expired', reapAt: now + this.limits.tombstoneGraceMs };
          deltas.push(this.writeOwn(key, tombstone, now));
          changes.push({ type: 'expire', server, key, version: slot.version });
        } else {
          slot.expiredHere = true;
          slot.reapAt = now + this.limits.tombstoneGraceMs;
          changes.push({ type: 'expire', server, key, version: slot.version });
        }
      }
    }
    return { changes, deltas };
  }

  /**
   * What a peer whose watermark for `server` is `theirKnown` lacks: entries above it,
   * ascending, cut to `budgetBytes` (never below one entry, and never a reset, which must be
   * whole). Null when the peer lacks nothing.
   */
  deltaFor(server: string, theirKnown: number, budgetBytes: number): StateDelta | null {
    const state = this.servers.get(server);
    if (!state || state.known <= theirKnown) return null;
    const reset = theirKnown < state.floor;
    const from = reset ? 0 : theirKnown;
    const now = this.deps.now();
    const slots = [...state.slots].filter(([, s]) => s.version > from).sort((a, b) => a[1].version - b[1].version);
    const entries: StateEntry[] = [];
    let bytes = 64 + server.length;
    let to = state.known;
    for (const [key, slot] of slots) {
      const entry = toWireEntry(key, slot, now);
      const size = jsonSize(entry) + 1;
      if (!reset && entries.length > 0 && bytes + size > budgetBytes) {
        to = entries[entries.length - 1].version;
        break;
      }
      entries.push(entry);
      bytes += size;
    }
    const delta: StateDelta = { server, from, to, entries };
    if (reset) delta.floor = state.floor;
    if (state.generation) delta.generation = state.generation;
    return delta;
  }

  /**
   * `delta` as it should travel now: a queued delta (a write, or one learnt from a peer) keeps
   * the time to live it was made with, so sent later or relayed it would give the key a longer
   * life than written. Each live entry's `ttlMs` is recomputed from the expiry held here; an
   * expiring entry no longer held (superseded, forgotten) goes with none left. Returns `delta`
   * itself when nothing changed.
   */
  withTimeLeft(delta: StateDelta): StateDelta {
    const slots = this.servers.get(delta.server)?.slots;
    const now = this.deps.now();
    let changed = false;
    const entries = delta.entries.map((entry) => {
      if (entry.deleted) return entry;
      const slot = slots?.get(entry.key);
      const fresh = slot && slot.version === entry.version && !slot.deleted ? toWireEntry(entry.key, slot, now) : entry.ttlMs === undefined ? entry : { ...entry, ttlMs: 0 };
      if (fresh.ttlMs === entry.ttlMs) return entry;
      changed = true;
      return fresh;
    });
    return changed ? { ...delta, entries } : delta;
  }

  /**
   * Applies a delta from a peer; throws StateValueError, changing nothing, when it breaks a
   * limit or is inconsistent. Returns the changes the host sees, whether anything was new
   * (the delta is then worth passing on), and whether it claims state about this server that
   * this server does not hold (the caller refutes it).
   */
  /**
   * @param welcome whether keys of this generation may be held for `delta.server` (see
   *   StateReplication: the view's current process, or a successor of a dead one); absent: any
   */
  apply(delta: StateDelta, welcome?: (generation: number) => boolean): { changes: StateChange[]; news: boolean; aboutSelfUnknown: boolean } {
    const none = { changes: [], news: false, aboutSelfUnknown: false };
    const invalid = invalidDelta(delta, this.limits, this.deps.acceptable);
    if (invalid) throw new StateValueError(invalid);
    if (delta.server === this.selfUrl) {
      // a previous process at our URL wrote these: peers drop them once they know our generation
      if (delta.generation !== undefined && delta.generation !== this.generation) return none;
      // versions about us that we never issued
      const own = this.servers.get(this.selfUrl);
      const stale = delta.to > (own?.known ?? 0) || (delta.floor ?? 0) > (own?.floor ?? 0);
      return { ...none, aboutSelfUnknown: stale };
    }
    if (delta.generation !== undefined && welcome && !welcome(delta.generation)) return none;
    const now = this.deps.now();
    const changes: StateChange[] = [];
    let news = false;
    let state = this.servers.get(delta.server);
    if (state && delta.generation !== undefined && state.generation !== undefined && state.generation !== delta.generation) {
      changes.push(...this.forget(delta.server, state));
      state = undefined;
    }
    if (!state) {
      if (delta.entries.length === 0 && delta.to === 0) return { ...none, changes };
      state = { known: 0, floor: 0, slots: new Map(), bytes: 0 };
      if (delta.generation !== undefined) state.generation = delta.generation;
      this.servers.set(delta.server, state);
    }
    // a reset removes what it does not list, but only where this server really was behind it
    const reset = delta.floor !== undefined && state.known < delta.floor;
    if (reset) {
      const listed = new Set(delta.entries.map((e) => e.key));
      for (const [key, slot] of [...state.slots]) {
        if (slot.version <= delta.to && !listed.has(key)) {
          state.slots.delete(key);
          state.bytes -= slotCost(key, slot);
          if (isLive(slot, now)) changes.push({ type: 'update', server: delta.server, key, value: undefined, version: delta.floor! });
          news = true;
        }
      }
      state.floor = Math.max(state.floor, delta.floor!);
    }
    for (const entry of delta.entries) {
      const current = state.slots.get(entry.key);
      if (current && current.version >= entry.version) continue;
      if (!current && state.slots.size >= this.limits.maxKeysPerServer) continue;
      const slot = fromWireEntry(entry, now, this.limits.tombstoneGraceMs);
      state.slots.set(entry.key, slot);
      state.bytes += slotCost(entry.key, slot) - (current ? slotCost(entry.key, current) : 0);
      news = true;
      const wasLive = current !== undefined && isLive(current, now);
      if (isLive(slot, now)) changes.push({ type: 'update', server: delta.server, key: entry.key, value: structuredClone(slot.value), version: slot.version });
      else if (wasLive) {
        changes.push(slot.deleted === 'deleted' ? { type: 'update', server: delta.server, key: entry.key, value: undefined, version: slot.version } : { type: 'expire', server: delta.server, key: entry.key, version: slot.version });
      }
    }
    if ((reset || delta.from <= state.known) && delta.to > state.known) {
      this.setKnown(delta.server, state, delta.to);
      news = true;
    }
    if (news) this.keepWithinBound(delta.server, state);
    return { changes, news, aboutSelfUnknown: false };
  }

  /** Forgets a server's state (its membership entry was removed). */
  drop(server: string): void {
    const state = this.servers.get(server);
    if (!state) return;
    this.deps.digest.toggleState(server, state.known);
    this.servers.delete(server);
  }

  /**
   * A new process runs at `server` (its membership generation changed): the keys of the
   * previous one are gone, and the host hears each as deleted. Returns those changes.
   */
  newGeneration(server: string, generation: number | undefined): StateChange[] {
    const state = this.servers.get(server);
    if (!state || server === this.selfUrl || (generation !== undefined && state.generation === generation)) return [];
    return this.forget(server, state);
  }

  private forget(server: string, state: ServerState): StateChange[] {
    const now = this.deps.now();
    const changes: StateChange[] = [];
    for (const [key, slot] of state.slots) if (isLive(slot, now)) changes.push({ type: 'update', server, key, value: undefined, version: slot.version });
    this.deps.digest.toggleState(server, state.known);
    this.servers.delete(server);
    return changes;
  }

  private own(): ServerState {
    let own = this.servers.get(this.selfUrl);
    if (!own) {
      // the first write of this process: peers still holding a previous process's keys get a reset
      own = { known: 0, floor: this.generation, slots: new Map(), bytes: 0 };
      if (this.generation > 0) own.generation = this.generation;
      this.servers.set(this.selfUrl, own);
      if (this.generation > 0) this.setKnown(this.selfUrl, own, this.generation);
    }
    return own;
  }

  private writeOwn(key: string, slot: Slot, now: number): StateDelta {
    const own = this.own();
    const from = own.known;
    const previous = own.slots.get(key);
    own.bytes += slotCost(key, slot) - (previous ? slotCost(key, previous) : 0);
    own.slots.set(key, slot);
    this.setKnown(this.selfUrl, own, slot.version);
    const delta: StateDelta = { server: this.selfUrl, from, to: slot.version, entries: [toWireEntry(key, slot, now)] };
    if (own.generation) delta.generation = own.generation;
    return delta;
  }

  /**
   * Keeps another server's state as held here within the per-server bound, so that a reset this
   * server relays (never cut) fits one message. The owner keeps its own within the bound, but a
   * relay learns tombstones later than the owner made them and so forgets them later: it can
   * hold tombstones the owner has already forgotten next to keys the owner wrote since. The
   * oldest tombstones (and keys expired here) go first, raising the floor past them, as the
   * owner did: a peer below the floor gets a reset, which deletes what it does not list.
   */
  private keepWithinBound(server: string, state: ServerState): void {
    const bound = this.limits.maxBytesPerServer;
    if (bound === undefined || resetEnvelope(server) + state.bytes <= bound) return;
    const now = this.deps.now();
    // the floor stays at or below the watermark (a reset's floor is at most its `to`)
    const dead = [...state.slots].filter(([, slot]) => !isLive(slot, now) && slot.version <= state.known).sort((x, y) => x[1].version - y[1].version);
    for (const [key, slot] of dead) {
      if (resetEnvelope(server) + state.bytes <= bound) break;
      forgetSlot(state, key, slot);
    }
  }

  private setKnown(server: string, state: ServerState, version: number): void {
    this.deps.digest.toggleState(server, state.known);
    state.known = version;
    this.deps.digest.toggleState(server, version);
  }

  private checkKey(key: string): void {
    const problem = keyProblem(key, this.limits.maxKeyLength);
    if (problem) throw new StateValueError(problem);
  }
}

/** Forgets a tombstone or expired key: versions up to it need a reset from now on (never above the watermark). */
function forgetSlot(state: ServerState, key: string, slot: Slot): void {
  state.slots.delete(key);
  state.bytes -= slotCost(key, slot);
  state.floor = Math.max(state.floor, Math.min(slot.version, state.known));
}

function isLive(slot: Slot, now: number): boolean {
  return !slot.deleted && !slot.expiredHere && (slot.expiresAt === undefined || slot.expiresAt > now);
}
