/**
 * What health endpoints show of the membership (issue 18, "Also"): counts by default, the
 * lists only with `healthDetails: 'full'` (or SHAZBOT_HEALTH_DETAILS=full). A real Nest app with
 * Terminus on Express and Fastify, and the plain-function API's health extension.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClusterService, ClustershazbotModule, resolveClusterConfig, shazbotHealthExtension, shazbotShutDown, shazbotStart } from '../../lib/index.js';
import { signedPost } from '../support/signed.js';
import { baseOptions, createApp, entry, PLATFORMS, SECRET, SELF } from '../e2e/app-fixture.js';

const OTHER = 'http://127.0.0.40:1/';

describe.each(PLATFORMS)('health exposure on %s', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const withPeer = async (options = baseOptions()) => {
    app = await createApp(platform, ClustershazbotModule.forRoot(options));
    await signedPost(request(app.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [], offline: [entry(OTHER)] }).expect(200);
    return app;
  };

  it('by default: counts only, no address', async () => {
    const res = await request((await withPeer()).getHttpServer()).get('/health').expect(200);
    expect(res.body.info).toEqual({ cluster: { status: 'up', online: 1, offline: 1, suspect: 0 } });
    expect(JSON.stringify(res.body)).not.toContain('127.0.0');
    expect(app!.get(ClusterService).healthExtension()).toEqual({ status: 'ok', cluster: { online: 1, offline: 1, suspect: 0 } });
  });

  it("with healthDetails: 'full': this server and the lists", async () => {
    const res = await request((await withPeer(baseOptions({ healthDetails: 'full' }))).getHttpServer()).get('/health').expect(200);
    expect(res.body.info.cluster).toEqual({ status: 'up', self: SELF, online: [expect.objectContaining({ baseUrl: SELF })], offline: [expect.objectContaining({ baseUrl: OTHER })], suspect: [] });
  });
});

describe('the health option', () => {
  afterEach(() => shazbotShutDown());

  it('comes from SHAZBOT_HEALTH_DETAILS too, and refuses other values with a message naming it', () => {
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    const required = { SHAZBOT_SECRET: 's', SHAZBOT_CONTROL_SECRET: 'c', SHAZBOT_BASE_URL: SELF, SHAZBOT_MASTER_LIST: 'file:///tmp/x.json' };
    expect(resolveClusterConfig({}, env(required), 'clustershazbot').healthDetails).toBe('counts');
    expect(resolveClusterConfig({}, env({ ...required, SHAZBOT_HEALTH_DETAILS: 'full' }), 'clustershazbot').healthDetails).toBe('full');
    expect(() => resolveClusterConfig({}, env({ ...required, SHAZBOT_HEALTH_DETAILS: 'lists' }), 'clustershazbot')).toThrow('clustershazbot: SHAZBOT_HEALTH_DETAILS must be one of counts, full, got "lists"');
  });

  it('governs the plain-function health extension', async () => {
    await shazbotStart(baseOptions(), []);
    expect(shazbotHealthExtension()).toEqual({ status: 'ok', cluster: { online: 1, offline: 0, suspect: 0 } });
  });
});
