import {
  ClustershazbotRequestError,
  shazbotCluster,
  shazbotControlRequest,
  shazbotGossipRequest,
  shazbotHealthExtension,
  shazbotListRequest,
  shazbotShutDown,
  shazbotStart,
  type GossipMessage,
} from '../../lib/index.js';
import { auth } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, ROTATED_SECRET, SECRET, SELF } from './app-fixture.js';

const signed = (secret: string, method: string, endpoint: string, body?: unknown) => auth(secret, method, `/clustershazbot/${endpoint}`, body).authorization;

async function rejection(promise: Promise<unknown>): Promise<ClustershazbotRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClustershazbotRequestError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('plain-function API', () => {
  afterEach(() => shazbotShutDown());

  it('answers 503 before start, and the health extension says why', async () => {
    expect((await rejection(shazbotListRequest(signed(SECRET, 'GET', 'list')))).status).toBe(503);
    expect(shazbotHealthExtension()).toEqual({ status: 'error', error: 'clustershazbot is not started: call shazbotStart() first' });
  });

  it('runs the same module: gossip, list, control, health extension', async () => {
    await shazbotStart(baseOptions({ healthDetails: 'full' }), []);
    const peer = { baseUrl: 'http://127.0.0.1:4001/', monitor: true, lastUpdate: Date.now() };
    const gossip: GossipMessage = { message: 'gossip', online: [peer] };
    const view = await shazbotGossipRequest(signed(ROTATED_SECRET, 'POST', 'gossip', gossip), gossip);
    expect(view.online.map((s) => s.baseUrl).sort()).toEqual([SELF, peer.baseUrl].sort());
    const list = await shazbotListRequest(signed(SECRET, 'GET', 'list'));
    expect(list.online).toEqual(expect.arrayContaining(view.online));
    expect(list.online).toHaveLength(view.online.length);
    const off = { message: 'control' as const, online: false };
    await shazbotControlRequest(signed(CONTROL_SECRET, 'POST', 'control', off), off);
    expect(shazbotCluster().self().online).toBe(false);
    const extension = shazbotHealthExtension();
    expect(extension).toEqual({ status: 'ok', cluster: { online: [peer], offline: [expect.objectContaining({ baseUrl: SELF })], suspect: [] } });
  });

  it('throws 401 for bad credentials and 400 with field messages for a bad body', async () => {
    await shazbotStart(baseOptions(), []);
    const gossip: GossipMessage = { message: 'gossip', online: [] };
    expect((await rejection(shazbotGossipRequest('', gossip))).status).toBe(401);
    expect((await rejection(shazbotGossipRequest(signed(CONTROL_SECRET, 'POST', 'gossip', gossip), gossip))).status).toBe(401);
    expect((await rejection(shazbotGossipRequest(`Bearer ${SECRET}`, gossip))).status).toBe(401);
    const on = { message: 'control' as const, online: true };
    expect((await rejection(shazbotControlRequest(signed(SECRET, 'POST', 'control', on), on))).status).toBe(401);
    const other = auth(SECRET, 'POST', '/clustershazbot/gossip', gossip, 'another-cluster').authorization;
    expect(await rejection(shazbotGossipRequest(other, gossip))).toMatchObject({ status: 403, message: 'Forbidden: the request was signed for another cluster' });
    const badBody: GossipMessage = { message: 'gossip', online: [{ baseUrl: 'javascript:alert(1)', monitor: false, lastUpdate: 1 }] };
    const bad = await rejection(shazbotGossipRequest(signed(SECRET, 'POST', 'gossip', badBody), badBody));
    expect(bad.status).toBe(400);
    expect(bad.details).toEqual([expect.stringContaining('online.0.baseUrl must be an absolute http(s) URL')]);
    const notObject = await rejection(shazbotGossipRequest(signed(SECRET, 'POST', 'gossip', 'hello'), 'hello' as unknown as GossipMessage));
    expect(notObject).toMatchObject({ status: 400, details: ['body must be a JSON object'] });
  });

  it('with the client address, failures past the limit get 429; a valid signature from that address is still accepted', async () => {
    await shazbotStart(baseOptions({ authFailureLimit: 3 }), []);
    const gossip: GossipMessage = { message: 'gossip', online: [] };
    for (let i = 0; i < 3; i++) expect((await rejection(shazbotGossipRequest('Bearer nope', gossip, '203.0.113.9'))).status).toBe(401);
    const headers: Record<string, string> = {};
    const limited = await rejection(shazbotGossipRequest('Bearer nope', gossip, { client: '203.0.113.9', setHeader: (n, v) => (headers[n] = v) }));
    expect(limited.status).toBe(429);
    expect(Number(headers['retry-after'])).toBeGreaterThan(0);
    await expect(shazbotGossipRequest(signed(SECRET, 'POST', 'gossip', gossip), gossip, '203.0.113.9')).resolves.toMatchObject({ online: [expect.objectContaining({ baseUrl: SELF })] });
    await expect(shazbotGossipRequest(signed(SECRET, 'POST', 'gossip', gossip), gossip, '203.0.113.10')).resolves.toMatchObject({ online: [expect.objectContaining({ baseUrl: SELF })] });
  });

  it('shazbotShutDown moves the server offline and stops; start again works', async () => {
    await shazbotStart(baseOptions(), []);
    const cluster = shazbotCluster();
    await shazbotShutDown();
    expect(cluster.self().online).toBe(false);
    expect((await rejection(shazbotListRequest(signed(SECRET, 'GET', 'list')))).status).toBe(503);
    await shazbotStart(baseOptions(), []);
    expect(shazbotCluster().self().online).toBe(true);
  });
});
