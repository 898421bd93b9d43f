import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClustershazbotModule } from '../../lib/index.js';
import { baseOptions, bearer, CONTROL_SECRET, createApp, entry, PLATFORMS, ROTATED_SECRET, SECRET, SELF } from './app-fixture.js';

describe.each(PLATFORMS)('cluster endpoints on %s', (platform) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeEach(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
  });
  afterEach(async () => {
    await app.close();
  });

  describe('authentication', () => {
    const gossip = { message: 'gossip', online: [entry('http://127.0.0.2:1/')], offline: [] };

    it.each([
      ['no header', {}],
      ['a wrong secret', bearer('nope')],
      ['the control secret', bearer(CONTROL_SECRET)],
      ['the secret without Bearer', { authorization: SECRET }],
      ['another scheme', { authorization: `Basic ${SECRET}` }],
    ])('refuses gossip with %s: 401 and no hint', async (_what, headers) => {
      const res = await http().post('/clustershazbot/gossip').set(headers).send(gossip);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    });

    it('accepts both the current and the rotated secret', async () => {
      for (const secret of [SECRET, ROTATED_SECRET]) {
        await http().post('/clustershazbot/gossip').set(bearer(secret)).send(gossip).expect(200);
        await http().get('/clustershazbot/list').set(bearer(secret)).expect(200);
      }
    });

    it('refuses list without the shared secret, and control with the shared secret', async () => {
      await http().get('/clustershazbot/list').expect(401);
      await http().get('/clustershazbot/list').set(bearer(CONTROL_SECRET)).expect(401);
      await http().post('/clustershazbot/control').set(bearer(SECRET)).send({ message: 'control', online: false }).expect(401);
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
      const res = await http().post('/clustershazbot/gossip').set(bearer(SECRET)).send(body() as object);
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await http().post('/clustershazbot/gossip').set(bearer(SECRET)).set('content-type', 'application/json').send('{"message":');
      expect(res.status).toBe(400);
    });

    it.each([
      ['a wrong message type', { message: 'gossip', online: true }, 'message must be equal to control'],
      ['a missing online flag', { message: 'control' }, 'online must be a boolean value'],
      ['an unknown field', { message: 'control', online: true, force: true }, 'property force should not exist'],
    ])('refuses control with %s', async (_what, body, message) => {
      const res = await http().post('/clustershazbot/control').set(bearer(CONTROL_SECRET)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('leaves the view unchanged after refused requests', async () => {
      const before = (await http().get('/clustershazbot/list').set(bearer(SECRET))).body;
      for (const [, body] of cases) await http().post('/clustershazbot/gossip').set(bearer(SECRET)).send(body() as object);
      await http().post('/clustershazbot/gossip').set(bearer('wrong')).send(valid());
      expect((await http().get('/clustershazbot/list').set(bearer(SECRET))).body).toEqual(before);
    });
  });

  it('gossip merges the sender view and answers with the whole view (push-pull)', async () => {
    const peer = entry('http://[::1]:4000');
    const gone = entry('http://127.0.0.9/');
    const res = await http().post('/clustershazbot/gossip').set(bearer(SECRET)).send({ message: 'gossip', online: [peer], offline: [gone] }).expect(200);
    const self = res.body.online.find((s: { baseUrl: string }) => s.baseUrl === SELF);
    expect(res.body).toEqual({
      online: expect.arrayContaining([{ ...peer, baseUrl: 'http://[::1]:4000/' }, self]),
      offline: [gone],
    });
    expect(res.body.online).toHaveLength(2);
    const list = await http().get('/clustershazbot/list').set(bearer(SECRET)).expect(200);
    expect(list.body).toEqual({ online: expect.arrayContaining(res.body.online), offline: res.body.offline });
    expect(list.body.online).toHaveLength(2);
  });

  it('control takes the server offline, keeps it a member, and brings it back', async () => {
    await http().post('/clustershazbot/control').set(bearer(CONTROL_SECRET)).send({ message: 'control', online: false }).expect(200, { success: true });
    let list = (await http().get('/clustershazbot/list').set(bearer(SECRET))).body;
    expect(list.online).toEqual([]);
    expect(list.offline.map((s: { baseUrl: string }) => s.baseUrl)).toEqual([SELF]);
    await http().post('/clustershazbot/control').set(bearer(CONTROL_SECRET)).send({ message: 'control', online: true }).expect(200);
    list = (await http().get('/clustershazbot/list').set(bearer(SECRET))).body;
    expect(list.online.map((s: { baseUrl: string }) => s.baseUrl)).toEqual([SELF]);
  });

  it('health is up with the online and offline lists', async () => {
    await http().post('/clustershazbot/gossip').set(bearer(SECRET)).send({ message: 'gossip', online: [], offline: [entry('http://127.0.0.10:1/')] });
    const res = await http().get('/health').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      info: { cluster: { status: 'up', self: SELF, online: [expect.objectContaining({ baseUrl: SELF, monitor: false })], offline: [expect.objectContaining({ baseUrl: 'http://127.0.0.10:1/' })] } },
      error: {},
      details: { cluster: expect.objectContaining({ status: 'up' }) },
    });
  });
});
