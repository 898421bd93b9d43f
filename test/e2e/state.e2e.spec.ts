import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  ClusterService,
  ClustershazbotModule,
  resolveClusterConfig,
  shazbotPeerValue,
  shazbotSetState,
  shazbotShutDown,
  shazbotStart,
  shazbotState,
  shazbotSyncRequest,
  StateValueError,
  type StateChange,
  type SyncMessage,
} from '../../lib/index.js';
import { auth, signedGet, signedPost } from '../support/signed.js';
import { baseOptions, createApp, entry, PLATFORMS, SECRET, SELF } from './app-fixture.js';

const PEER = 'http://127.0.0.2:1/';

/** A peer's membership entry plus one key of its state, as a sync leg carries them. */
function peerWithKey(key: string, value: unknown, now = Date.now()): SyncMessage {
  return {
    message: 'sync',
    members: { online: [entry(PEER, now - 10)], offline: [] },
    state: [{ server: PEER, from: 0, to: now, floor: now - 5, entries: [{ key, version: now, value: value as never }] }],
  };
}

describe.each(PLATFORMS)('key/value state and sync on %s', (platform) => {
  let app: INestApplication;
  let cluster: ClusterService;
  const http = () => request(app.getHttpServer());

  beforeEach(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ maxStateValueBytes: 256 })));
    cluster = app.get(ClusterService);
  });
  afterEach(async () => {
    await app.close();
  });

  it('serves every server\'s keys on GET state, signed; unsigned gets 401', async () => {
    cluster.setLocalState('load', 0.5);
    cluster.setLocalState('shards', [1, 7]);
    const res = await signedGet(http(), '/clustershazbot/state', SECRET).expect(200);
    expect(res.body).toEqual({ [SELF]: { load: 0.5, shards: [1, 7] } });
    await http().get('/clustershazbot/state').expect(401);
  });

  it('answers a sync: equal roots cost one small answer, different ones get the digest', async () => {
    const probe: SyncMessage = { message: 'sync', hash: '0000000000000000', buckets: Buffer.alloc(256).toString('base64') };
    const first = await signedPost(http(), '/clustershazbot/sync', SECRET, probe).expect(200);
    expect(first.body.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(first.body.digest).toEqual([[SELF, cluster.self().lastUpdate, 0, 0]]);
    const same: SyncMessage = { message: 'sync', hash: first.body.hash, buckets: probe.buckets };
    const second = await signedPost(http(), '/clustershazbot/sync', SECRET, same).expect(200);
    expect(second.body).toEqual({ message: 'sync', hash: first.body.hash });
  });

  it('merges members and state from a sync, with update events and peerValue', async () => {
    const updates: [string, string, unknown][] = [];
    cluster.on('update', (server, key, value) => updates.push([server, key, value]));
    const changes: StateChange[] = [];
    const sub = cluster.stateChanges$.subscribe((c) => changes.push(c));
    await signedPost(http(), '/clustershazbot/sync', SECRET, peerWithKey('color', { name: 'blue' })).expect(200);
    expect(cluster.peerValue(PEER, 'color')).toEqual({ name: 'blue' });
    expect(cluster.peerValue('http://127.0.0.2:1', 'color')).toEqual({ name: 'blue' }); // normalised
    expect(cluster.peerValue('not a url', 'color')).toBeUndefined();
    expect(updates).toEqual([[PEER, 'color', { name: 'blue' }]]);
    expect(changes[0]).toMatchObject({ type: 'update', server: PEER, key: 'color' });
    sub.unsubscribe();
  });

  it.each<[string, unknown, RegExp]>([
    ['a malformed hash', { message: 'sync', hash: 'xyz' }, /hash must be 16 lowercase hex digits/],
    ['a malformed digest entry', { message: 'sync', digest: [['http://127.0.0.3:1/', 'soon', 0, 0]] }, /digest element must be \[baseUrl, lastUpdate, rank 0\|1\|2, stateVersion\]/],
    ['a state entry without a version', { message: 'sync', state: [{ server: PEER, from: 0, to: 1, entries: [{ key: 'k', value: 1 }] }] }, /version must be an integer number/],
    ['a state delta about a non-http server', { message: 'sync', state: [{ server: 'ftp://x/', from: 0, to: 1, entries: [] }] }, /server must be an absolute http\(s\) URL/],
    ['an unknown field', { message: 'sync', extra: true }, /property extra should not exist/],
  ])('refuses a sync with %s: 400 with the reason, state unchanged', async (_what, body, reason) => {
    const before = cluster.state();
    const res = await signedPost(http(), '/clustershazbot/sync', SECRET, body).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(reason);
    expect(cluster.state()).toEqual(before);
  });

  it('drops an incoming value over the size limit, keeps the rest of the message', async () => {
    const big = peerWithKey('blob', 'x'.repeat(1000));
    await signedPost(http(), '/clustershazbot/sync', SECRET, big).expect(200);
    expect(cluster.peerValue(PEER, 'blob')).toBeUndefined();
    expect(cluster.view().online.map((s) => s.baseUrl)).toContain(PEER); // the member still merged
    expect(cluster.status().stats.entriesRefused).toBeGreaterThan(0);
  });

  it('refuses a bad local value with a clear StateValueError', () => {
    expect(() => cluster.setLocalState('big', 'x'.repeat(300))).toThrow(StateValueError);
    expect(() => cluster.setLocalState('big', 'x'.repeat(300))).toThrow('value of "big" is 302 bytes; the limit is 256 (option maxStateValueBytes)');
    expect(() => cluster.setLocalState('', 1)).toThrow(/non-empty string/);
    expect(() => cluster.setLocalState('late', 1, new Date(Date.now() - 1000))).toThrow(/in the future/);
    expect(cluster.deleteLocalState('never-set')).toBe(false);
    expect(cluster.localState()).toEqual({});
  });

  it('expires a key here at its time and tells listeners', async () => {
    const expired: [string, string][] = [];
    cluster.on('expire', (server, key) => expired.push([server, key]));
    cluster.setLocalState('lease', 'mine', Date.now() + 300);
    expect(cluster.localState()).toEqual({ lease: 'mine' });
    // the module's maintenance timer turns it into a tombstone and fires the event
    for (let i = 0; i < 100 && expired.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(cluster.localState()).toEqual({});
    expect(expired).toEqual([[SELF, 'lease']]);
  });
});

describe('key/value state through the plain-function API', () => {
  afterEach(() => shazbotShutDown());

  it('sets, reads and syncs state like the Nest module', async () => {
    await shazbotStart(baseOptions(), []);
    shazbotSetState('version', '1.2.3');
    expect(shazbotPeerValue(SELF, 'version')).toBe('1.2.3');
    const body = peerWithKey('zone', 'eu-west');
    await shazbotSyncRequest(auth(SECRET, 'POST', '/clustershazbot/sync', body).authorization, body);
    expect(shazbotState()).toEqual({ [SELF]: { version: '1.2.3' }, [PEER]: { zone: 'eu-west' } });
    expect(() => shazbotSetState('bad', undefined as never)).toThrow(StateValueError);
  });
});

describe('state configuration', () => {
  it('refuses a message budget too small for the largest value, naming the variable', () => {
    const env = { SHAZBOT_MESSAGE_BUDGET: '2000', SHAZBOT_MAX_STATE_VALUE: '4096' };
    expect(() => resolveClusterConfig({ ...baseOptions(), useEnvironment: true }, (name) => env[name as keyof typeof env], 'clustershazbot')).toThrow(new RegExp(`SHAZBOT_MESSAGE_BUDGET.*at least the largest value plus 1024 plus the base URL's length \\(${4096 + 1024 + baseOptions().baseUrl!.length}\\)`));
  });
});
