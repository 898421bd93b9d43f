import 'reflect-metadata';
import fc from 'fast-check';
import { BadRequestException, type Type } from '@nestjs/common';
import { ClusterValidationPipe } from '../../lib/dto/cluster-validation.pipe.js';
import { ControlMessageDto, GossipMessageDto, ProbeAckDto, ProbeMessageDto, ServerListDto, StateDeltaDto, SyncMessageDto, validateBody } from '../../lib/dto/index.js';
import { canonicalJson } from '../../lib/security/canonical-json.js';

/**
 * The wire messages' DTOs, through the pipe the library's controllers carry (class-validator's
 * ValidationPipe with whitelist, forbidNonWhitelisted and transform: ClusterValidationPipe) and
 * through validateBody (replies and the plain functions): what servers really send passes unchanged, and each rule
 * refuses what it is there to refuse, with a message naming the field.
 */
const pipe = new ClusterValidationPipe();

/** The pipe's verdict on a body as a JSON body parser hands it over. */
async function throughPipe(dto: Type<object>, body: unknown): Promise<{ ok: true; value: unknown } | { ok: false; messages: string[] }> {
  try {
    return { ok: true, value: await pipe.transform(JSON.parse(JSON.stringify(body)), { type: 'body', metatype: dto }) };
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    return { ok: false, messages: (error.getResponse() as { message: string[] }).message };
  }
}

// --- what servers send
const goodUrl = fc.constantFrom('http://127.0.0.1:3001/', 'https://node-7.example.com/cluster/', 'http://[::1]:8080/');
const goodInt = fc.oneof(fc.nat(), fc.constant(1_800_000_000_000), fc.constant(Number.MAX_SAFE_INTEGER));
const server = fc.record({ baseUrl: goodUrl, monitor: fc.boolean(), lastUpdate: goodInt, by: goodUrl }, { requiredKeys: ['baseUrl', 'monitor', 'lastUpdate'] });
const entry = fc.record(
  { key: fc.constantFrom('load', 'started', 'k'), version: goodInt, value: fc.jsonValue({ maxDepth: 2 }), ttlMs: goodInt, deleted: fc.boolean(), expired: fc.boolean() },
  { requiredKeys: ['key', 'version'] },
);
const delta = fc.record({ server: goodUrl, from: goodInt, to: goodInt, floor: goodInt, entries: fc.array(entry, { maxLength: 3 }) }, { requiredKeys: ['server', 'from', 'to', 'entries'] });
const hashes = fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64'));
const lists = { online: fc.array(server, { maxLength: 4 }), offline: fc.array(server, { maxLength: 2 }), suspect: fc.array(server, { maxLength: 2 }) };

const wellFormed: [string, Type<object>, fc.Arbitrary<unknown>][] = [
  ['ServerListDto', ServerListDto, fc.record(lists, { requiredKeys: ['online'] })],
  ['GossipMessageDto', GossipMessageDto, fc.record({ message: fc.constant('gossip'), ...lists }, { requiredKeys: ['message', 'online'] })],
  ['ProbeMessageDto', ProbeMessageDto, fc.record({ message: fc.constant('probe'), target: goodUrl, state: fc.array(delta, { maxLength: 2 }), ...lists }, { requiredKeys: ['message', 'online'] })],
  ['ProbeAckDto', ProbeAckDto, fc.record({ message: fc.constant('ack'), ack: fc.boolean(), refused: fc.boolean(), state: fc.array(delta, { maxLength: 2 }), ...lists }, { requiredKeys: ['message', 'ack', 'online'] })],
  [
    'SyncMessageDto',
    SyncMessageDto,
    fc.record(
      {
        message: fc.constant('sync'),
        hash: fc.stringMatching(/^[0-9a-f]{16}$/),
        buckets: hashes,
        digest: fc.array(fc.tuple(goodUrl, goodInt, fc.constantFrom(0, 1, 2), goodInt), { maxLength: 3 }),
        want: fc.array(fc.tuple(goodUrl, goodInt, fc.constantFrom(0, 1, 2), goodInt), { maxLength: 2 }),
        leaves: fc.array(fc.record({ bucket: fc.integer({ min: 0, max: 63 }), hashes }), { maxLength: 2 }),
        complete: fc.array(fc.integer({ min: 0, max: 4159 }), { maxLength: 3 }),
        members: fc.record(lists, { requiredKeys: ['online'] }),
        state: fc.array(delta, { maxLength: 2 }),
      },
      { requiredKeys: ['message'] },
    ),
  ],
  ['ControlMessageDto', ControlMessageDto, fc.record({ message: fc.constant('control'), online: fc.boolean() })],
  ['StateDeltaDto', StateDeltaDto, delta],
];

const okServer = { baseUrl: 'http://127.0.0.1:3001/', monitor: false, lastUpdate: 1 };
const okDelta = { server: 'http://127.0.0.1:3001/', from: 0, to: 1, entries: [{ key: 'load', version: 1, value: 0.5 }] };
/** An ASCII base URL of exactly `length` characters. */
const urlOf = (length: number) => `http://a.example/${'x'.repeat(length - 'http://a.example/'.length - 1)}/`;

/** One body per rule, each breaking that rule only, and (part of) the message that names it. */
const broken: [string, Type<object>, unknown, string][] = [
  ['an unknown field', GossipMessageDto, { message: 'gossip', online: [], extra: 1 }, 'property extra should not exist'],
  ['an unknown field in a server', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, admin: true }] }, 'property admin should not exist'],
  ['another message type', GossipMessageDto, { message: 'probe', online: [] }, 'message must be equal to gossip'],
  ['no online list', GossipMessageDto, { message: 'gossip' }, 'online must be an array'],
  ['a base URL with credentials', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, baseUrl: 'http://u:p@h/' }] }, 'baseUrl must be an absolute http(s) URL'],
  ['a base URL of another scheme', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, baseUrl: 'ftp://h/' }] }, 'baseUrl must be an absolute http(s) URL'],
  ['a base URL one character too long', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, baseUrl: urlOf(2049) }] }, 'baseUrl must be shorter than or equal to 2048 characters'],
  ['a negative stamp', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, lastUpdate: -1 }] }, 'lastUpdate must not be less than 0'],
  ['a fractional stamp', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, lastUpdate: 1.5 }] }, 'lastUpdate must be an integer number'],
  ['a stamp beyond 2^53', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, lastUpdate: Number.MAX_SAFE_INTEGER + 2 }] }, 'lastUpdate must not be greater than'],
  ['monitor as a string', GossipMessageDto, { message: 'gossip', online: [{ ...okServer, monitor: 'true' }] }, 'monitor must be a boolean value'],
  ['a server that is not an object', GossipMessageDto, { message: 'gossip', online: ['http://h/'] }, 'nested property online must be either object or array'],
  ['a probe target that is not a URL', ProbeMessageDto, { message: 'probe', online: [], target: 'x' }, 'target must be an absolute http(s) URL'],
  ['an ack without ack', ProbeAckDto, { message: 'ack', online: [] }, 'ack must be a boolean value'],
  ['an empty key', ProbeMessageDto, { message: 'probe', online: [], state: [{ ...okDelta, entries: [{ key: '', version: 1 }] }] }, 'key must be longer than or equal to 1 characters'],
  ['a key of 1,025 characters', StateDeltaDto, { ...okDelta, entries: [{ key: 'k'.repeat(1025), version: 1 }] }, 'key must be shorter than or equal to 1024 characters'],
  ['deleted as a number', StateDeltaDto, { ...okDelta, entries: [{ key: 'k', version: 1, deleted: 1 }] }, 'deleted must be a boolean value'],
  ['a delta without entries', StateDeltaDto, { server: okDelta.server, from: 0, to: 1 }, 'entries must be an array'],
  ['a sync hash in upper case', SyncMessageDto, { message: 'sync', hash: 'ABCDEF0123456789' }, 'hash must be 16 lowercase hex digits'],
  ['sync buckets too short', SyncMessageDto, { message: 'sync', buckets: 'AAAA' }, 'buckets must be 64 32-bit hashes in base64'],
  ['a digest entry of the wrong shape', SyncMessageDto, { message: 'sync', digest: [['http://h/', 1, 3, 0]] }, 'each digest element must be [baseUrl, lastUpdate, rank 0|1|2, stateVersion]'],
  ['a leaf bucket out of range', SyncMessageDto, { message: 'sync', leaves: [{ bucket: 64, hashes: Buffer.alloc(256).toString('base64') }] }, 'bucket must not be greater than 63'],
  ['a complete range out of range', SyncMessageDto, { message: 'sync', complete: [4160] }, 'each value in complete must not be greater than 4159'],
  ['members that are not a list', SyncMessageDto, { message: 'sync', members: { online: 'x' } }, 'online must be an array'],
  ['control online as a string', ControlMessageDto, { message: 'control', online: 'yes' }, 'online must be a boolean value'],
];

describe('wire message DTOs (class-validator, through the controllers\' ValidationPipe)', () => {
  it.each(wellFormed)('%s: accepts what servers send, and hands the same data on', async (_name, dto, body) => {
    await fc.assert(
      fc.asyncProperty(body, async (message) => {
        const result = await throughPipe(dto, message);
        expect(result).toMatchObject({ ok: true });
        // transform makes DTO instances: the same fields and values, nothing added or lost
        expect(canonicalJson(result.ok ? result.value : undefined)).toBe(canonicalJson(JSON.parse(JSON.stringify(message))));
      }),
      { numRuns: 100, seed: 20261123 },
    );
  });

  it.each(broken)('refuses %s, naming the field', async (_name, dto, body, message) => {
    const result = await throughPipe(dto, body);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.messages.join('\n')).toContain(message);
  });

  it('accepts a base URL of exactly the limit, 2,048 characters', async () => {
    expect((await throughPipe(GossipMessageDto, { message: 'gossip', online: [{ ...okServer, baseUrl: urlOf(2048) }] })).ok).toBe(true);
  });

  it('each broken body differs from an accepted one in its one rule only', async () => {
    // the fixtures above would prove nothing if their base were refused already
    expect((await throughPipe(GossipMessageDto, { message: 'gossip', online: [okServer] })).ok).toBe(true);
    expect((await throughPipe(StateDeltaDto, okDelta)).ok).toBe(true);
    expect((await throughPipe(ProbeMessageDto, { message: 'probe', online: [], state: [okDelta] })).ok).toBe(true);
  });

  it('hands key/value values on untouched: own "__proto__" and "constructor" keys reach the engine, which refuses them', async () => {
    const text = '{"__proto__":{"x":1},"n":[{"constructor":"x"}],"a":1}';
    const body = JSON.parse(`{"message":"probe","online":[],"state":[{"server":"http://127.0.0.1:3001/","from":0,"to":5,"entries":[{"key":"k","version":5,"value":${text}}]}]}`);
    const result = await throughPipe(ProbeMessageDto, body);
    expect(result.ok).toBe(true);
    expect(JSON.stringify((result as { value: ProbeMessageDto }).value.state![0].entries[0].value)).toBe(text);
  });
});

describe('validateBody (replies from peers, the plain functions)', () => {
  it('strict: refuses unknown fields with the pipe\'s message; not strict (a newer peer\'s reply): strips them', async () => {
    const reply = { message: 'ack', ack: true, online: [{ ...okServer, future: 1 }], future: 'x' };
    expect(await validateBody(ProbeAckDto, reply)).toEqual({ value: undefined, errors: ['property future should not exist', 'online.0.property future should not exist'] });
    const lenient = await validateBody(ProbeAckDto, reply, false);
    expect(lenient.errors).toEqual([]);
    expect(JSON.parse(JSON.stringify(lenient.value))).toEqual({ message: 'ack', ack: true, online: [okServer] });
  });

  it('refuses a body that is not a JSON object', async () => {
    for (const body of [null, [], 'gossip', 1]) expect(await validateBody(GossipMessageDto, body)).toEqual({ value: undefined, errors: ['body must be a JSON object'] });
  });

  it('answers the same messages as the pipe, with nested paths', async () => {
    const body = { message: 'gossip', online: [{ ...okServer, lastUpdate: -1 }] };
    const piped = await throughPipe(GossipMessageDto, body);
    const validated = await validateBody(GossipMessageDto, body);
    expect(validated.errors).toEqual(['online.0.lastUpdate must not be less than 0']);
    expect(piped.ok ? [] : piped.messages).toEqual(validated.errors);
  });
});
