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
import { baseOptions, CONTROL_SECRET, ROTATED_SECRET, SECRET, SELF } from './app-fixture.js';

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
    expect((await rejection(shazbotListRequest(`Bearer ${SECRET}`))).status).toBe(503);
    expect(shazbotHealthExtension()).toEqual({ status: 'error', error: 'clustershazbot is not started: call shazbotStart() first' });
  });

  it('runs the same module: gossip, list, control, health extension', async () => {
    await shazbotStart(baseOptions(), []);
    const peer = { baseUrl: 'http://127.0.0.1:4001/', monitor: true, lastUpdate: Date.now() };
    const view = await shazbotGossipRequest(`Bearer ${ROTATED_SECRET}`, { message: 'gossip', online: [peer] });
    expect(view.online.map((s) => s.baseUrl).sort()).toEqual([SELF, peer.baseUrl].sort());
    const list = await shazbotListRequest(`Bearer ${SECRET}`);
    expect(list.online).toEqual(expect.arrayContaining(view.online));
    expect(list.online).toHaveLength(view.online.length);
    await shazbotControlRequest(`Bearer ${CONTROL_SECRET}`, { message: 'control', online: false });
    expect(shazbotCluster().self().online).toBe(false);
    const extension = shazbotHealthExtension();
    expect(extension).toEqual({ status: 'ok', cluster: { online: [peer], offline: [expect.objectContaining({ baseUrl: SELF })] } });
  });

  it('throws 401 for bad credentials and 400 with field messages for a bad body', async () => {
    await shazbotStart(baseOptions(), []);
    const gossip: GossipMessage = { message: 'gossip', online: [] };
    expect((await rejection(shazbotGossipRequest('', gossip))).status).toBe(401);
    expect((await rejection(shazbotGossipRequest(`Bearer ${CONTROL_SECRET}`, gossip))).status).toBe(401);
    expect((await rejection(shazbotControlRequest(`Bearer ${SECRET}`, { message: 'control', online: true }))).status).toBe(401);
    const bad = await rejection(shazbotGossipRequest(`Bearer ${SECRET}`, { message: 'gossip', online: [{ baseUrl: 'javascript:alert(1)', monitor: false, lastUpdate: 1 }] }));
    expect(bad.status).toBe(400);
    expect(bad.details).toEqual([expect.stringContaining('online.0.baseUrl must be an absolute http(s) URL')]);
    const notObject = await rejection(shazbotGossipRequest(`Bearer ${SECRET}`, 'hello' as unknown as GossipMessage));
    expect(notObject).toMatchObject({ status: 400, details: ['body must be a JSON object'] });
  });

  it('shazbotShutDown moves the server offline and stops; start again works', async () => {
    await shazbotStart(baseOptions(), []);
    const cluster = shazbotCluster();
    await shazbotShutDown();
    expect(cluster.self().online).toBe(false);
    expect((await rejection(shazbotListRequest(`Bearer ${SECRET}`))).status).toBe(503);
    await shazbotStart(baseOptions(), []);
    expect(shazbotCluster().self().online).toBe(true);
  });
});
