import 'reflect-metadata';
import fc from 'fast-check';
import { ValidationPipe, type Type } from '@nestjs/common';
import { ArrayMaxSize, Equals, getMetadataStorage, IsArray, IsBoolean, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { compiledCheck, shortcutFor } from '../../lib/dto/compiled-validation.js';
import { STRICT_VALIDATION } from '../../lib/dto/validate-body.js';
import { ControlMessageDto, GossipMessageDto, ProbeAckDto, ProbeMessageDto, ServerListDto, StateDeltaDto, SyncMessageDto } from '../../lib/dto/index.js';
import { canonicalJson } from '../../lib/security/canonical-json.js';

/**
 * The compiled fast path must never accept what the full ValidationPipe refuses, and must
 * return what the full pipe would have returned. It is also held to accepting the messages
 * servers really send (otherwise it buys nothing).
 */
const fullPipe = new ValidationPipe(STRICT_VALIDATION);

async function fullVerdict(dto: Type<object>, body: unknown): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await fullPipe.transform(JSON.parse(JSON.stringify(body)), { type: 'body', metatype: dto }) };
  } catch {
    return { ok: false };
  }
}

// --- pools of good and bad values, so that samples land on both sides of every rule
const goodUrl = fc.constantFrom('http://127.0.0.1:3001/', 'https://node-7.example.com/cluster/', 'http://[::1]:8080/');
const url = fc.oneof(goodUrl, fc.constantFrom('ftp://x/', 'http://u:p@h/', 'http://h/?q=1', '', 'x'.repeat(3000), 'http://' + 'a'.repeat(2100) + '/'), fc.string(), fc.integer(), fc.constant(null));
const goodInt = fc.oneof(fc.nat(), fc.constant(1_800_000_000_000), fc.constant(Number.MAX_SAFE_INTEGER));
const int = fc.oneof(goodInt, fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN), fc.string(), fc.constant(null));
const bool = fc.oneof(fc.boolean(), fc.constantFrom('true', 0, null));
/** Objects with keys the full pipe strips, made the way a JSON parser makes them. */
const pollutedJson = fc.constantFrom('{"__proto__":{"admin":true},"a":1}', '{"constructor":{"prototype":1}}', '{"prototype":2}', '[{"__proto__":1}]').map((text) => JSON.parse(text) as unknown);
const freeJson = fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, pollutedJson);
const extras = fc.dictionary(fc.constantFrom('extra', 'constructor', 'online2'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 1 });
const withExtras = <T extends object>(arb: fc.Arbitrary<T>) =>
  fc.tuple(arb, fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, extras)).map(([body, extra]) => ({ ...body, ...extra }));

const server = withExtras(fc.record({ baseUrl: url, monitor: bool, lastUpdate: int, by: url }, { requiredKeys: ['baseUrl', 'monitor', 'lastUpdate'] }));
const goodServer = fc.record({ baseUrl: goodUrl, monitor: fc.boolean(), lastUpdate: goodInt, by: goodUrl }, { requiredKeys: ['baseUrl', 'monitor', 'lastUpdate'] });
const list = (item: fc.Arbitrary<unknown>) => fc.oneof({ weight: 6, arbitrary: fc.array(item, { maxLength: 4 }) }, fc.constantFrom({}, 'x', null, [1], [null], [[]]));
const entry = withExtras(fc.record({ key: fc.oneof(fc.constantFrom('load', 'k'), fc.string({ maxLength: 3 }), fc.constant(''), fc.integer()), version: int, value: freeJson, ttlMs: int, deleted: bool, expired: bool }, { requiredKeys: ['key', 'version'] }));
const delta = withExtras(fc.record({ server: url, from: int, to: int, floor: int, entries: list(entry) }, { requiredKeys: ['server', 'from', 'to', 'entries'] }));
const goodDelta = fc.record({ server: goodUrl, from: goodInt, to: goodInt, entries: fc.array(fc.record({ key: fc.constantFrom('load', 'started'), version: goodInt, value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 3 }) });
const hashes = fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64'));
const digestEntry = fc.oneof(fc.tuple(goodUrl, goodInt, fc.constantFrom(0, 1, 2), goodInt), fc.tuple(url, int, fc.integer({ min: -1, max: 3 }), int), fc.jsonValue({ maxDepth: 1 }));

const lists = { online: list(server), offline: list(server), suspect: list(server) };
const arbitraries: [string, Type<object>, fc.Arbitrary<unknown>, fc.Arbitrary<unknown>][] = [
  ['ServerListDto', ServerListDto, withExtras(fc.record(lists, { requiredKeys: [] })), fc.record({ online: fc.array(goodServer, { maxLength: 5 }), offline: fc.array(goodServer, { maxLength: 2 }) })],
  ['GossipMessageDto', GossipMessageDto, withExtras(fc.record({ message: fc.constantFrom('gossip', 'probe', 5), ...lists }, { requiredKeys: [] })), fc.record({ message: fc.constant('gossip'), online: fc.array(goodServer, { maxLength: 5 }), offline: fc.array(goodServer, { maxLength: 2 }) })],
  [
    'ProbeMessageDto',
    ProbeMessageDto,
    withExtras(fc.record({ message: fc.constantFrom('probe', 'ack'), target: url, state: list(delta), ...lists }, { requiredKeys: [] })),
    fc.record({ message: fc.constant('probe'), target: goodUrl, online: fc.array(goodServer, { maxLength: 3 }), offline: fc.constant([]), state: fc.array(goodDelta, { maxLength: 2 }) }, { requiredKeys: ['message', 'online'] }),
  ],
  [
    'ProbeAckDto',
    ProbeAckDto,
    withExtras(fc.record({ message: fc.constantFrom('ack', 'probe'), ack: bool, state: list(delta), ...lists }, { requiredKeys: [] })),
    fc.record({ message: fc.constant('ack'), ack: fc.boolean(), online: fc.array(goodServer, { maxLength: 3 }), state: fc.array(goodDelta, { maxLength: 2 }) }, { requiredKeys: ['message', 'ack', 'online'] }),
  ],
  [
    'SyncMessageDto',
    SyncMessageDto,
    withExtras(
      fc.record(
        {
          message: fc.constantFrom('sync', 'gossip'),
          hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), fc.string()),
          buckets: fc.oneof(hashes, fc.string()),
          digest: list(digestEntry),
          want: list(digestEntry),
          complete: list(fc.oneof(fc.integer({ min: -2, max: 4200 }), fc.string())),
          leaves: list(withExtras(fc.record({ bucket: fc.oneof(fc.integer({ min: -1, max: 70 }), fc.string()), hashes: fc.oneof(hashes, fc.string()) }, { requiredKeys: [] }))),
          members: fc.oneof(withExtras(fc.record(lists, { requiredKeys: [] })), fc.constantFrom(null, 'x', [])),
          state: list(delta),
        },
        { requiredKeys: [] },
      ),
    ),
    fc.record(
      {
        message: fc.constant('sync'),
        hash: fc.stringMatching(/^[0-9a-f]{16}$/),
        buckets: hashes,
        digest: fc.array(fc.tuple(goodUrl, goodInt, fc.constantFrom(0, 1, 2), goodInt), { maxLength: 3 }),
        leaves: fc.array(fc.record({ bucket: fc.integer({ min: 0, max: 63 }), hashes }), { maxLength: 2 }),
        complete: fc.array(fc.integer({ min: 0, max: 4159 }), { maxLength: 3 }),
        members: fc.record({ online: fc.array(goodServer, { maxLength: 3 }) }),
        state: fc.array(goodDelta, { maxLength: 2 }),
      },
      { requiredKeys: ['message'] },
    ),
  ],
  ['ControlMessageDto', ControlMessageDto, withExtras(fc.record({ message: fc.constantFrom('control', 'x'), online: bool }, { requiredKeys: [] })), fc.record({ message: fc.constant('control'), online: fc.boolean() })],
  ['StateDeltaDto', StateDeltaDto, delta, goodDelta],
];

describe('compiled validation (the fast path in front of the ValidationPipe)', () => {
  it.each(arbitraries)('%s: accepts nothing the full pipe refuses, and returns what it would', async (_name, dto, hostileBody, goodBody) => {
    const check = compiledCheck(dto);
    // well-formed bodies, hostile ones, and well-formed ones with one field taken from a hostile one
    const anyBody = fc.oneof(
      goodBody,
      hostileBody,
      fc.tuple(goodBody, hostileBody, fc.nat()).map(([good, hostile, pick]) => {
        const keys = Object.keys(hostile as object);
        if (!keys.length || good === null || typeof good !== 'object') return good;
        const key = keys[pick % keys.length];
        return { ...good, [key]: (hostile as Record<string, unknown>)[key] };
      }),
    );
    expect(check).not.toBeNull();
    const tally = { fastAccepted: 0, fullAccepted: 0, samples: 0, missed: 0 };
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const wire = JSON.parse(JSON.stringify(body)) as unknown; // what a JSON body parser hands over
        const fast = check!(JSON.parse(JSON.stringify(wire)));
        const full = await fullVerdict(dto, wire);
        tally.samples++;
        if (full.ok) tally.fullAccepted++;
        if (!fast) {
          if (full.ok) tally.missed++;
          return;
        }
        tally.fastAccepted++;
        expect(full.ok).toBe(true);
        expect(canonicalJson(full.ok ? full.value : undefined)).toBe(canonicalJson(wire));
      }),
      { numRuns: 600, seed: 20261123 },
    );
    // not vacuous: both verdicts occur, and the fast path takes most of what the full pipe accepts
    // (it leaves oddities such as an empty array in place of a server to the full pipe)
    expect(tally.fastAccepted).toBeGreaterThan(0);
    expect(tally.samples - tally.fullAccepted).toBeGreaterThan(0);
    expect(tally.fastAccepted).toBeGreaterThanOrEqual(tally.fullAccepted * 0.8);
  });

  it.each(arbitraries)('%s: takes the fast path for well-formed messages', async (_name, dto, _anyBody, goodBody) => {
    const check = compiledCheck(dto)!;
    await fc.assert(
      fc.asyncProperty(goodBody, async (body) => {
        const wire = JSON.parse(JSON.stringify(body)) as unknown;
        expect((await fullVerdict(dto, wire)).ok).toBe(true);
        expect(check(wire)).toBe(true);
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  it('leaves bodies it does not model to the full pipe', () => {
    const check = compiledCheck(GossipMessageDto)!;
    expect(check(JSON.parse('{"message":"gossip","online":[],"__proto__":{"x":1}}'))).toBe(false);
    expect(check(Object.assign(Object.create({ inherited: 1 }), { message: 'gossip', online: [] }))).toBe(false);
    expect(check([])).toBe(false);
    expect(check(null)).toBe(false);
    expect(check('gossip')).toBe(false);
  });

  it('agrees with the full pipe on base URLs around the length limit, surrogate pairs included (the MaxLength shortcut)', async () => {
    const check = compiledCheck(GossipMessageDto)!;
    const url = (length: number, fill: string) => {
      const head = 'http://a.example/';
      return head + fill.repeat(Math.ceil((length - head.length - 1) / fill.length)).slice(0, length - head.length - 1) + '/';
    };
    for (const fill of ['x', '\u{1F600}']) {
      for (const length of [2046, 2047, 2048, 2049, 2050]) {
        const body = { message: 'gossip', online: [{ baseUrl: url(length, fill), monitor: false, lastUpdate: 1 }] };
        const full = await fullVerdict(GossipMessageDto, body);
        if (check(body)) expect(full.ok).toBe(true);
        if (fill === 'x') expect(check(body)).toBe(length <= 2048); // plain ASCII: exactly the limit
      }
    }
  });

  it('takes a shortcut for a built-in validator only where the validator itself agrees', () => {
    class EveryShortcut {
      @IsString() @IsBoolean() @IsInt() @IsArray() @Equals('gossip') @Min(0) @Max(10) @MaxLength(3) @ArrayMaxSize(2)
      value: unknown;
    }
    const storage = getMetadataStorage();
    const metadatas = storage.getTargetValidationMetadatas(EveryShortcut, '', false, false, undefined);
    const values = fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom(-0, 0, 10, 10.5, -1, 3.0, Number.NaN, Infinity, -Infinity, 'gossip', 'abc', 'abcd', '\u{1F600}\u{1F600}', [], [1, 2], [1, 2, 3], null, undefined),
    );
    let shortcuts = 0;
    for (const metadata of metadatas) {
      const shortcut = shortcutFor(metadata);
      if (!shortcut) continue;
      shortcuts++;
      const [constraint] = storage.getTargetValidatorConstraints(metadata.constraintCls) as unknown as { instance: { validate(value: unknown, args: object): unknown } }[];
      let taken = 0;
      fc.assert(
        fc.property(values, (value) => {
          if (shortcut(value)) taken++;
          if (shortcut(value)) expect(constraint.instance.validate(value, { constraints: metadata.constraints, value, object: {}, property: 'value', targetName: 'EveryShortcut' })).toBe(true);
        }),
        { numRuns: 500, seed: 3 },
      );
      expect(taken).toBeGreaterThan(0); // each shortcut is tried where it answers true
    }
    expect(shortcuts).toBe(9);
  });
});
