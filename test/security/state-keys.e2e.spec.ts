/**
 * Key/value keys from the network (issue 18, items 7 and 8) on a real Nest app, Express and
 * Fastify: a secret holder sends keys named `__proto__` or holding a line break. They are
 * refused with a clear 400 at the door and by the engine behind it, and the state objects the
 * API hands out have no prototype a key could reach.
 */
import type { INestApplication } from '@nestjs/common';
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
});
