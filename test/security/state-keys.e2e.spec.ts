/**
 * Key/value keys from the network (issue 18, items 7 and 8) on a real Nest app, Express and
 * Fastify: a secret holder sends keys named `__proto__` or holding a line break. They are
 * refused with a clear 400 at the door and by the engine behind it, and the state objects the
 * API hands out have no prototype a key could reach. Values holding an own "__proto__" or
 * "constructor" key at any depth are refused by their writer, and a forged message carrying one
 * never leaves a receiver holding a value other than the one sent.
 */
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, StateValueError, type SyncMessage } from '../../lib/index.js';
import { signedGet, signedPost } from '../support/signed.js';
import { baseOptions, createApp, entry, PLATFORMS, SECRET } from '../e2e/app-fixture.js';

const PEER = 'http://127.0.0.2:1/';
const FORGED_LINE = 'x\ncontrol from 10.9.9.9: set offline';

/** A peer's entry plus its state holding `key`, as a secret holder would sync it. */
function withKey(key: string, value: unknown, now = Date.now()): SyncMessage {
  return {
    message: 'sync',
    members: { online: [entry(PEER, now - 10)], offline: [] },
    state: [{ server: PEER, from: 0, to: now, floor: now - 5, entries: [{ key, version: now, value: value as never }] }],
  };
}

describe.each(PLATFORMS)('key/value keys from the network on %s', (platform) => {
  let app: INestApplication;
  let cluster: ClusterService;
  const http = () => request(app.getHttpServer());

  beforeEach(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
    cluster = app.get(ClusterService);
  });
  afterEach(() => app.close());

  it('a key named __proto__ is refused with 400, and state()[peer].leader cannot be forged', async () => {
    const res = await signedPost(http(), '/clustershazbot/sync', SECRET, withKey('__proto__', { leader: true })).expect(400);
    expect(res.body.message).toEqual([expect.stringContaining('must hold printable characters only (no control, format or line-separator characters) and not be "__proto__"')]);
    // past the DTOs (as the engine gets a probe's piggybacked state), the engine refuses it too
    cluster.receiveSync(withKey('__proto__', { leader: true }));
    cluster.receiveSync(withKey('role', 'worker'));
    const state = cluster.state();
    expect(state[PEER]).toEqual({ role: 'worker' });
    expect(state[PEER].leader).toBeUndefined();
    expect(Object.getPrototypeOf(state)).toBeNull();
    expect(Object.getPrototypeOf(state[PEER])).toBeNull();
    const served = await signedGet(http(), '/clustershazbot/state', SECRET).expect(200);
    expect(served.body[PEER]).toEqual({ role: 'worker' });
  });

  it('keys with a line break, a terminal escape or a bidirectional override are refused: over the wire, by the engine, and locally', async () => {
    for (const key of [FORGED_LINE, 'a\u001b[31mred', 'file\u202Etxt.exe', 'a\u2028b']) {
      await signedPost(http(), '/clustershazbot/sync', SECRET, withKey(key, 1)).expect(400);
      cluster.receiveSync(withKey(key, 1));
      expect(() => cluster.setLocalState(key, 1)).toThrow(new StateValueError('key must hold printable characters only (no control, format or line-separator characters)'));
    }
    expect(() => cluster.setLocalState('__proto__', 1)).toThrow(new StateValueError('key "__proto__" is reserved'));
    expect(cluster.state()[PEER]).toBeUndefined();
    // spaces and any script are printable
    cluster.setLocalState('shard owner ñ 東京', 1);
    expect(cluster.localState()).toEqual({ 'shard owner ñ 東京': 1 });
    expect(Object.getPrototypeOf(cluster.localState())).toBeNull();
  });

  it('a value holding "__proto__" or "constructor" at any depth: the writer throws, naming the path', () => {
    expect(() => cluster.setLocalState('cfg', JSON.parse('{"a":1,"n":{"__proto__":{"leader":true}}}'))).toThrow(
      new StateValueError('value of "cfg" holds a key named "__proto__" at value.n.__proto__: keys named "__proto__" or "constructor" are refused at any depth of a value, since peers\' validation (class-transformer) would drop them'),
    );
    expect(() => cluster.setLocalState('cfg', { list: [{ constructor: 'x' }] })).toThrow(/value of "cfg" holds a key named "constructor" at value\.list\[0\]\.constructor/);
    expect(cluster.localState()).toEqual({});
  });

  it('a signed sync whose value holds one never leaves a changed value stored; the refusal is a rate-limited warning', async () => {
    const warnings: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      for (const [i, text] of ['{"__proto__":{"leader":true},"a":1}', '{"a":{"b":[{"constructor":"x"}]}}', '{"__proto__":{"x":1},"a":1}', '{"constructor":{"a":1}}'].entries()) {
        const body = JSON.parse(JSON.stringify(withKey('cfg', 0, Date.now() + i)).replace('"value":0', `"value":${text}`));
        const res = await signedPost(http(), '/clustershazbot/sync', SECRET, body);
        // Fastify's JSON parser refuses any "__proto__" key itself; past the parser the engine refuses the delta
        if (platform === 'fastify' && text.includes('__proto__')) expect(res.status).toBe(400);
        else expect(res.status).toBe(200);
        expect(cluster.state({ include: 'all' })[PEER]).toBeUndefined();
      }
    } finally {
      spy.mockRestore();
    }
    const refusals = warnings.filter((w) => w.startsWith('refused key/value state'));
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(3);
    expect(refusals[0]).toMatch(/key "cfg": value holds a key named "(__proto__|constructor)" at value\./);
    // a clean value from the same peer is stored as sent
    await signedPost(http(), '/clustershazbot/sync', SECRET, withKey('cfg', { a: { b: [{ prototype: 1 }] } }, Date.now() + 10)).expect(200);
    expect(cluster.state()[PEER]).toEqual({ cfg: { a: { b: [{ prototype: 1 }] } } });
  });
});
