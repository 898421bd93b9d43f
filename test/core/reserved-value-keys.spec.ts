import 'reflect-metadata';
import { ClusterEngine, StateValueError, type GossipTransport, type SyncMessage } from '../../lib/core/index.js';
import { RESERVED_VALUE_KEYS, reservedKeyPath } from '../../lib/core/state-wire.js';
import { SyncMessageDto, validateBody } from '../../lib/dto/index.js';

/**
 * Key/value values holding an own key named `__proto__` or `constructor` at any depth: the DTO
 * layer (class-transformer) would drop the key on every receiver, or fail on `constructor`,
 * while the writer keeps it. The writer refuses them, a receiver refuses a delta carrying one,
 * and a value reaches the engine exactly as it was sent.
 */
const T0 = 1_800_000_000_000;
const PEER = 'http://peer.test:1/';
const offline = () => Promise.reject(new Error('offline'));
const silent: GossipTransport = { exchange: offline, probe: offline, sync: offline };

function engine(warnings: string[] = [], now = () => T0): ClusterEngine {
  const e = new ClusterEngine({ selfUrl: 'http://self.test:1/', probeIntervalMs: 0 }, { now, random: () => 0.5, transport: silent, log: { warn: (m) => warnings.push(m), debug: () => {} } });
  e.start();
  return e;
}

/** A secret holder's sync: the peer as a member, and its state holding `value` under `key`. */
function syncWith(key: string, value: unknown, version = T0): SyncMessage {
  return {
    message: 'sync',
    members: { online: [{ baseUrl: PEER, monitor: false, lastUpdate: T0 - 10 }], offline: [] },
    state: [{ server: PEER, from: 0, to: version, entries: [{ key, version, value: value as never }] }],
  };
}

describe('reservedKeyPath', () => {
  it('finds an own "__proto__" or "constructor" key at any depth, in objects and arrays, and names its path', () => {
    expect(RESERVED_VALUE_KEYS).toEqual(['__proto__', 'constructor']);
    expect(reservedKeyPath(JSON.parse('{"__proto__":{"x":1},"a":1}'))).toBe('value.__proto__');
    expect(reservedKeyPath(JSON.parse('{"a":{"b":[1,{"constructor":"x"}]}}'))).toBe('value.a.b[1].constructor');
    expect(reservedKeyPath(JSON.parse('[{"my key":{"__proto__":null}}]'))).toBe('value[0]["my key"].__proto__');
  });

  it('passes values without one: prototype, lookalikes, an object literal\'s __proto__ (a prototype, not a key), scalars', () => {
    for (const value of [1, 'x', null, true, [], {}, { prototype: { a: 1 } }, { __proto__x: 1, Constructor: 2, proto: 3 }, { __proto__: { a: 1 } }, [[['__proto__']]]]) {
      expect(reservedKeyPath(value)).toBeNull();
    }
  });

  it('walks a value nested far deeper than the 32 levels allowed without overflowing the stack', () => {
    let deep: unknown = JSON.parse('{"__proto__":1}');
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(reservedKeyPath(deep)).toMatch(/^value(\[0\]){100000}\.__proto__$/);
  });
});

describe('the writer refuses a value holding a reserved key', () => {
  it('throws a StateValueError naming the key, its path and why; nothing is stored or sent', () => {
    const e = engine();
    expect(() => e.setLocalState('cfg', JSON.parse('{"a":1,"n":{"__proto__":{"x":1}}}'))).toThrow(
      new StateValueError('value of "cfg" holds a key named "__proto__" at value.n.__proto__: keys named "__proto__" or "constructor" are refused at any depth of a value, since peers\' validation (class-transformer) would drop them'),
    );
    expect(() => e.setLocalState('cfg', [{ constructor: 'x' }])).toThrow(/value of "cfg" holds a key named "constructor" at value\[0\]\.constructor/);
    expect(e.stateOf("http://self.test:1/")).toEqual({});
    e.setLocalState('cfg', { prototype: 1, a: 1 });
    expect(e.stateOf("http://self.test:1/")).toEqual({ cfg: { a: 1, prototype: 1 } });
  });
});

describe('a receiver refuses a delta carrying one', () => {
  it('stores nothing from that delta, counts it, and warns at most 3 times a minute', () => {
    const warnings: string[] = [];
    const e = engine(warnings);
    for (let i = 0; i < 10; i++) e.handleSync(syncWith('cfg', JSON.parse('{"__proto__":{"x":1},"a":1}'), T0 + i));
    expect(e.stateOf(PEER)).toEqual({});
    expect(e.stats().entriesRefused).toBe(10);
    const refusals = warnings.filter((w) => w.startsWith('refused key/value state'));
    expect(refusals).toHaveLength(3);
    expect(refusals[0]).toContain('key "cfg": value holds a key named "__proto__" at value.__proto__');
    // the same peer's clean value is taken
    e.handleSync(syncWith('cfg', { a: 1 }, T0 + 20));
    expect(e.stateOf(PEER)).toEqual({ cfg: { a: 1 } });
  });
});

describe('validateBody hands state values on untouched', () => {
  it('keeps own "__proto__" and "constructor" keys, where class-transformer would drop them or throw', async () => {
    const body = JSON.parse(JSON.stringify(syncWith('cfg', 0)).replace('"value":0', '"value":{"__proto__":{"x":1},"n":[{"constructor":"x"}],"a":1}'));
    const { value, errors } = await validateBody(SyncMessageDto, body);
    expect(errors).toEqual([]);
    const entry = value!.state![0].entries[0];
    expect(entry).toBeInstanceOf(Object);
    expect(JSON.stringify(entry.value)).toBe('{"__proto__":{"x":1},"n":[{"constructor":"x"}],"a":1}');
    // the body itself is not changed
    expect(body.state[0].entries[0].value).toBe(entry.value);
  });

  it('still validates the rest of the entry (the values are lifted, not their entries)', async () => {
    const body = syncWith('cfg', { a: 1 });
    (body.state![0].entries[0] as { version: unknown }).version = -1;
    expect((await validateBody(SyncMessageDto, body)).errors).toEqual(['state.0.entries.0.version must not be less than 0']);
  });
});
