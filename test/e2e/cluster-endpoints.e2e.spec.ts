import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { canonicalJson, ClustershazbotModule, signRequest } from '../../lib/index.js';
import { auth, signedGet, signedPost } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, createApp, entry, PLATFORMS, ROTATED_SECRET, SECRET, SELF } from './app-fixture.js';

describe.each(PLATFORMS)('cluster endpoints on %s', (platform) => {
  let app: INestApplication;
  let startedAt: number;
  const http = () => request(app.getHttpServer());

  beforeEach(async () => {
    startedAt = Date.now();
    // the lists in health are opt-in (the default shows counts: see test/security/health-exposure.e2e.spec.ts)
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ healthDetails: 'full' })));
  });
  afterEach(async () => {
    await app.close();
  });

  describe('authentication', () => {
    const gossip = { message: 'gossip', online: [entry('http://127.0.0.2:1/')], offline: [] };

    it.each([
      ['no header', {}],
      ['a wrong secret', auth('nope', 'POST', '/clustershazbot/gossip', gossip)],
      ['the control secret', auth(CONTROL_SECRET, 'POST', '/clustershazbot/gossip', gossip)],
      ['the bare secret', { authorization: SECRET }],
      ['the secret as a bearer token (the unsigned form: no downgrade)', { authorization: `Bearer ${SECRET}` }],
      ['another scheme', { authorization: `Basic ${SECRET}` }],
    ])('refuses gossip with %s: 401 and no hint', async (_what, headers) => {
      const res = await http().post('/clustershazbot/gossip').set(headers).send(gossip);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    });

    it('accepts both the current and the rotated secret', async () => {
      for (const secret of [SECRET, ROTATED_SECRET]) {
        await signedPost(http(), '/clustershazbot/gossip', secret, gossip).expect(200);
        await signedGet(http(), '/clustershazbot/list', secret).expect(200);
      }
    });

    it('refuses list without the shared secret, and control with the shared secret', async () => {
      await http().get('/clustershazbot/list').expect(401);
      await signedGet(http(), '/clustershazbot/list', CONTROL_SECRET).expect(401);
      await signedPost(http(), '/clustershazbot/control', SECRET, { message: 'control', online: false }).expect(401);
    });

    it('refuses a replayed, a stale, a future-dated or a tampered request; 403 only for another cluster', async () => {
      const path = '/clustershazbot/gossip';
      const fresh = auth(SECRET, 'POST', path, gossip);
      await http().post(path).set(fresh).send(gossip).expect(200);
      await http().post(path).set(fresh).send(gossip).expect(401); // replay
      const at = (ts: number) => ({ authorization: signRequest(SECRET, { method: 'POST', target: SELF, path, cluster: 'default', body: gossip }, ts) });
      await http().post(path).set(at(Date.now() - 11 * 60_000)).send(gossip).expect(401);
      await http().post(path).set(at(Date.now() + 11 * 60_000)).send(gossip).expect(401);
      const tampered = { ...gossip, online: [entry('http://127.0.0.66:1/')] };
      await http().post(path).set(auth(SECRET, 'POST', path, gossip)).send(tampered).expect(401);
      await http().post(path).set(auth(SECRET, 'GET', '/clustershazbot/list')).send(gossip).expect(401);
      // the signature covers the route's logical path: a query string neither breaks nor bends it
      await http().post(`${path}?via=proxy`).set(auth(SECRET, 'POST', path, gossip)).send(gossip).expect(200);
      await http().post(`${path}?x=/list`).set(auth(SECRET, 'POST', '/clustershazbot/list', gossip)).send(gossip).expect(401);
      const other = await http().post(path).set(auth(SECRET, 'POST', path, gossip, 'another-cluster')).send(gossip);
      expect(other.status).toBe(403);
      expect(other.body.message).toBe('Forbidden: the request was signed for another cluster');
      const list = await signedGet(http(), '/clustershazbot/list', SECRET);
      expect(JSON.stringify(list.body)).not.toContain('127.0.0.66');
    });

    it('checks credentials before the body: an unauthenticated bad body gets 401, not 400', async () => {
      await http().post('/clustershazbot/gossip').send({ junk: true }).expect(401);
    });
  });

  describe('validation', () => {
    const valid = () => ({ message: 'gossip', online: [entry('http://127.0.0.3:1/')], offline: [entry('http://127.0.0.4:1/')] });
    const cases: [string, () => unknown, string][] = [
      ['an unknown top-level field', () => ({ ...valid(), extra: 1 }), 'property extra should not exist'],
      ['an unknown entry field', () => ({ ...valid(), online: [{ ...entry('http://127.0.0.5:1/'), x: 1 }] }), 'property x should not exist'],
      ['a wrong message type', () => ({ ...valid(), message: 'hello' }), 'message must be equal to gossip'],
      ['a missing online list', () => ({ message: 'gossip' }), 'online must be an array'],
      ['a non-http base URL', () => ({ ...valid(), online: [entry('ftp://127.0.0.5:1/')] }), 'baseUrl must be an absolute http(s) URL'],
      ['a base URL with credentials', () => ({ ...valid(), online: [entry('http://u:p@127.0.0.5:1/')] }), 'baseUrl must be an absolute http(s) URL'],
      ['an over-long base URL', () => ({ ...valid(), online: [entry(`http://127.0.0.5/${'x'.repeat(2100)}`)] }), 'baseUrl must be shorter than or equal to 2048 characters'],
      ['a negative stamp', () => ({ ...valid(), online: [entry('http://127.0.0.5:1/', -1)] }), 'lastUpdate must not be less than 0'],
      ['a fractional stamp', () => ({ ...valid(), online: [entry('http://127.0.0.5:1/', 1.5)] }), 'lastUpdate must be an integer number'],
      ['a string monitor flag', () => ({ ...valid(), online: [{ ...entry('http://127.0.0.5:1/'), monitor: 'yes' }] }), 'monitor must be a boolean value'],
      ['too many servers', () => ({ message: 'gossip', online: Array.from({ length: 10_001 }, (_, i) => entry(`http://127.0.1.${i % 250}:${1000 + i}/`)) }), 'online must contain no more than 10000 elements'],
    ];

    it.each(cases)('refuses %s with 400 and the field message', async (_what, body, message) => {
      const res = await signedPost(http(), '/clustershazbot/gossip', SECRET, body() as object);
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await http().post('/clustershazbot/gossip').set(auth(SECRET, 'POST', '/clustershazbot/gossip')).set('content-type', 'application/json').send('{"message":');
      expect(res.status).toBe(400);
    });

    it.each([
      ['a wrong message type', { message: 'gossip', online: true }, 'message must be equal to control'],
      ['a missing online flag', { message: 'control' }, 'online must be a boolean value'],
      ['an unknown field', { message: 'control', online: true, force: true }, 'property force should not exist'],
    ])('refuses control with %s', async (_what, body, message) => {
      const res = await signedPost(http(), '/clustershazbot/control', CONTROL_SECRET, body);
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('leaves the view unchanged after refused requests', async () => {
      const before = (await signedGet(http(), '/clustershazbot/list', SECRET)).body;
      for (const [, body] of cases) await signedPost(http(), '/clustershazbot/gossip', SECRET, body() as object);
      await signedPost(http(), '/clustershazbot/gossip', 'wrong', valid());
      expect((await signedGet(http(), '/clustershazbot/list', SECRET)).body).toEqual(before);
    });
  });

  it('gossip merges the sender view and answers with the whole view (push-pull)', async () => {
    const peer = entry('http://[::1]:4000');
    const gone = entry('http://127.0.0.9/');
    const res = await signedPost(http(), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [peer], offline: [gone] }).expect(200);
    // this server's own entry as it must be, not as the answer says: stamped once, at its start,
    // which is also its generation (the process's identity)
    const self = { baseUrl: SELF, monitor: false, lastUpdate: expect.any(Number), generation: expect.any(Number) };
    expect(res.body).toEqual({
      online: expect.arrayContaining([{ ...peer, baseUrl: 'http://[::1]:4000/' }, self]),
      offline: [gone],
    });
    expect(res.body.online).toHaveLength(2);
    const own = res.body.online.find((s: { baseUrl: string }) => s.baseUrl === SELF) as { lastUpdate: number; generation: number };
    expect(own.lastUpdate).toBeGreaterThanOrEqual(startedAt);
    expect(own.lastUpdate).toBeLessThanOrEqual(Date.now());
    expect(own.generation).toBe(own.lastUpdate);
    const list = await signedGet(http(), '/clustershazbot/list', SECRET).expect(200);
    expect(list.body).toEqual({ online: expect.arrayContaining(res.body.online), offline: res.body.offline, suspect: [] });
    expect(list.body.online).toHaveLength(2);
  });

  it('control takes the server offline, keeps it a member, and brings it back', async () => {
    await signedPost(http(), '/clustershazbot/control', CONTROL_SECRET, { message: 'control', online: false }).expect(200, { success: true });
    let list = (await signedGet(http(), '/clustershazbot/list', SECRET)).body;
    expect(list.online).toEqual([]);
    expect(list.offline.map((s: { baseUrl: string }) => s.baseUrl)).toEqual([SELF]);
    await signedPost(http(), '/clustershazbot/control', CONTROL_SECRET, { message: 'control', online: true }).expect(200);
    list = (await signedGet(http(), '/clustershazbot/list', SECRET)).body;
    expect(list.online.map((s: { baseUrl: string }) => s.baseUrl)).toEqual([SELF]);
  });

  it('health is up with the online and offline lists', async () => {
    await signedPost(http(), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [], offline: [entry('http://127.0.0.10:1/')] });
    const res = await http().get('/health').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      info: { cluster: { status: 'up', self: SELF, online: [expect.objectContaining({ baseUrl: SELF, monitor: false })], offline: [expect.objectContaining({ baseUrl: 'http://127.0.0.10:1/' })], suspect: [] } },
      error: {},
      details: { cluster: expect.objectContaining({ status: 'up' }) },
    });
  });

  it('a suspected server stays listed, under suspect, in the list and in health until it is declared offline', async () => {
    const suspect = { ...entry('http://127.0.0.13:1/'), by: 'http://127.0.0.14:1/' };
    await signedPost(http(), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [], offline: [], suspect: [suspect] }).expect(200);
    const list = (await signedGet(http(), '/clustershazbot/list', SECRET).expect(200)).body;
    expect(list.suspect).toEqual([expect.objectContaining({ baseUrl: 'http://127.0.0.13:1/', by: 'http://127.0.0.14:1/' })]);
    expect(list.online.map((s: { baseUrl: string }) => s.baseUrl)).not.toContain('http://127.0.0.13:1/');
    const health = (await http().get('/health').expect(200)).body;
    expect(health.info.cluster.suspect).toEqual([expect.objectContaining({ baseUrl: 'http://127.0.0.13:1/' })]);
  });
});

describe.each(PLATFORMS)('an app that keeps raw bodies (rawBody: true) on %s', (platform) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const path = '/clustershazbot/gossip';
  const gossip = { message: 'gossip', online: [entry('http://127.0.0.21:1/')], offline: [] };
  const post = (text: string, authorization: string) => http().post(path).set({ authorization, 'content-type': 'application/json' }).send(text);
  const listed = async () => JSON.stringify((await signedGet(http(), '/clustershazbot/list', SECRET).expect(200)).body);

  beforeEach(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()), [], { rawBody: true });
  });
  afterEach(async () => {
    await app.close();
  });

  it('accepts the canonical text our peers send, and other JSON of the same body; refuses a replay', async () => {
    const signed = signRequest(SECRET, { method: 'POST', target: SELF, path, cluster: 'default', body: gossip });
    await post(canonicalJson(gossip), signed).expect(200);
    await post(canonicalJson(gossip), signed).expect(401); // replay
    const other = { ...gossip, online: [entry('http://127.0.0.22:1/')] };
    await post(JSON.stringify(other, null, 2), signRequest(SECRET, { method: 'POST', target: SELF, path, cluster: 'default', body: other })).expect(200);
    expect(await listed()).toContain('127.0.0.22');
  });

  it('refuses a body that is not the signed one, and leaves the view unchanged', async () => {
    const signed = signRequest(SECRET, { method: 'POST', target: SELF, path, cluster: 'default', body: gossip });
    await post(canonicalJson({ ...gossip, online: [entry('http://127.0.0.66:1/')] }), signed).expect(401);
    expect(await listed()).not.toContain('127.0.0.66');
  });
});
