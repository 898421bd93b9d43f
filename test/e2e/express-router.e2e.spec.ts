/**
 * clustershazbotRouter() in a real Express 5 app on a loopback port, with and without a JSON body
 * parser in front of it, and in a plain node:http server (connect-style): every endpoint, and
 * every status it maps (400, 401, 403, 404, 413, 429, 503).
 */
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import express, { type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  ClusterHealthIndicator,
  ClustershazbotRequestError,
  clustershazbotRouter,
  shazbotCluster,
  shazbotControlRequest,
  shazbotGossipRequest,
  shazbotListRequest,
  shazbotProbeRequest,
  shazbotHealthExtension,
  shazbotStateRequest,
  shazbotShutDown,
  shazbotStart,
  type ClustershazbotMiddleware,
  type ClustershazbotOptions,
  type ClustershazbotRouterOptions,
  type ControlMessage,
  type GossipMessage,
  type ProbeMessage,
  type SyncMessage,
} from '../../lib/index.js';
import { auth } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, SECRET, SELF } from './app-fixture.js';

type Mode = 'express.json' | 'no parser' | 'node:http';

const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An app with the router, and a route of its own after it (which the router must leave alone). */
async function app(mode: Mode, routerOptions: ClustershazbotRouterOptions = {}): Promise<string> {
  const router: ClustershazbotMiddleware = clustershazbotRouter(routerOptions);
  if (mode === 'node:http') {
    return listen(
      createServer((req, res) =>
        router(req, res, (error) => {
          res.statusCode = error ? 500 : 404;
          res.end(error ? 'error' : 'not found by the host');
        }),
      ),
    );
  }
  const application = express();
  if (mode === 'express.json') application.use(express.json({ limit: '4mb' }));
  application.use(clustershazbotRouter(routerOptions));
  application.get('/hello', (_req, res) => {
    res.json({ host: 'route' });
  });
  return listen(createServer(application));
}

async function start(overrides: ClustershazbotOptions = {}): Promise<void> {
  await shazbotStart(baseOptions(overrides), []);
}

/** A signed request as a peer sends it: the canonical JSON text it signed. */
async function signed(base: string, method: 'GET' | 'POST', endpoint: string, body?: unknown, { secret = SECRET, cluster = 'default', path = `/clustershazbot/${endpoint}` } = {}) {
  const { authorization } = auth(secret, method, `/clustershazbot/${endpoint}`, body, cluster);
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

/** A POST whose body is streamed in chunks without a Content-Length (chunked transfer encoding). */
function chunkedPost(base: string, path: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const writeNext = (i: number): void => {
      if (i === chunks.length) return void req.end();
      // the server may answer 413 and close before every chunk went: stop writing then
      if (req.destroyed) return;
      req.write(chunks[i], () => writeNext(i + 1));
    };
    writeNext(0);
  });
}

const gossip: GossipMessage = { message: 'gossip', online: [{ baseUrl: 'http://127.0.0.1:4001/', monitor: false, lastUpdate: Date.now() }] };
const probe: ProbeMessage = { message: 'probe', online: [] };
const sync: SyncMessage = { message: 'sync', hash: '0000000000000000', buckets: Buffer.alloc(256).toString('base64') };

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await shazbotShutDown();
});

describe.each<Mode>(['express.json', 'no parser', 'node:http'])('clustershazbotRouter (%s)', (mode) => {
  it('serves every endpoint: gossip, probe, sync, list, state, control', async () => {
    await start();
    const base = await app(mode);

    const view = await signed(base, 'POST', 'gossip', gossip);
    expect(view.status).toBe(200);
    expect(view.body.online.map((s: { baseUrl: string }) => s.baseUrl).sort()).toEqual([SELF, 'http://127.0.0.1:4001/'].sort());

    const ack = await signed(base, 'POST', 'probe', probe);
    expect(ack).toMatchObject({ status: 200, body: { message: 'ack', ack: true } });

    const leg1 = await signed(base, 'POST', 'sync', sync);
    expect(leg1.status).toBe(200);
    expect(leg1.body).toMatchObject({ message: 'sync', hash: expect.stringMatching(/^[0-9a-f]{16}$/) });

    const list = await signed(base, 'GET', 'list');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ online: expect.arrayContaining(view.body.online), offline: [], suspect: [] });
    expect(list.body.online).toHaveLength(2);

    shazbotCluster().setLocalState('version', '2.4.1');
    const state = await signed(base, 'GET', 'state');
    expect(state).toEqual({ status: 200, body: { [SELF]: { version: '2.4.1' } } });

    const off = { message: 'control', online: false };
    expect(await signed(base, 'POST', 'control', off, { secret: CONTROL_SECRET })).toEqual({ status: 200, body: { success: true } });
    expect(shazbotCluster().self().online).toBe(false);
  });

  it('maps refusals to 401, 403 and 400 in Nest\'s error shape', async () => {
    await start();
    const base = await app(mode);
    const unsigned = await fetch(`${base}/clustershazbot/list`);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
    // the gossip secret does not open control
    expect((await signed(base, 'POST', 'control', { message: 'control', online: false })).status).toBe(401);
    expect(await signed(base, 'POST', 'gossip', gossip, { cluster: 'another-cluster' })).toEqual({
      status: 403,
      body: { statusCode: 403, message: 'Forbidden: the request was signed for another cluster', error: 'Forbidden' },
    });
    const bad = { message: 'gossip', online: [{ baseUrl: 'javascript:alert(1)', monitor: false, lastUpdate: 1 }] };
    const refused = await signed(base, 'POST', 'gossip', bad);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ statusCode: 400, message: [expect.stringContaining('online.0.baseUrl must be an absolute http(s) URL')], error: 'Bad Request' });
    expect(shazbotCluster().view().online.map((s) => s.baseUrl)).toEqual([SELF]);
  });

  it('answers 400 to a body that is not JSON', async () => {
    await start();
    const base = await app(mode);
    const { authorization } = auth(SECRET, 'POST', '/clustershazbot/gossip', gossip);
    const res = await fetch(`${base}/clustershazbot/gossip`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{"message":' });
    expect(res.status).toBe(400);
  });

  it('answers 413 above maxBodyBytes, from Content-Length and from a chunked stream', async () => {
    await start({ maxBodyBytes: 2048, messageBudgetBytes: 2048, maxStateValueBytes: 512 });
    const base = await app(mode);
    const big = { message: 'gossip', online: Array.from({ length: 40 }, (_, i) => ({ baseUrl: `http://10.0.0.${i}:3000/`, monitor: false, lastUpdate: 1 })) };
    const declared = await signed(base, 'POST', 'gossip', big);
    expect(declared.status).toBe(413);
    if (mode === 'express.json') return; // the parser read the stream before the router: its own 4 MB limit applies
    const { authorization } = auth(SECRET, 'POST', '/clustershazbot/gossip', big);
    const text = Buffer.from(JSON.stringify(big));
    const streamed = await chunkedPost(base, '/clustershazbot/gossip', { authorization }, [text.subarray(0, 1500), text.subarray(1500)]);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toEqual({ statusCode: 413, message: 'Request body larger than 2048 bytes', error: 'Payload Too Large' });
  });

  it('answers 429 once a client has failed authentication authFailureLimit times', async () => {
    await start({ authFailureLimit: 3 });
    const base = await app(mode);
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/clustershazbot/list`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const blocked = await fetch(`${base}/clustershazbot/list`, { headers: { authorization: 'Bearer nope' } });
    expect({ status: blocked.status, body: await blocked.json() }).toEqual({ status: 429, body: { statusCode: 429, message: 'Too many failed authentications from this address; try again later', error: 'Too Many Requests' } });
    // the limit only slows failures down: a valid signature from the same client is still accepted
    expect((await signed(base, 'GET', 'list')).status).toBe(200);
  });

  it('answers 503 before shazbotStart, and passes other paths and methods on (404 from the host)', async () => {
    const base = await app(mode);
    expect(await signed(base, 'GET', 'list')).toEqual({
      status: 503,
      body: { statusCode: 503, message: 'clustershazbot is not started: call shazbotStart() first', error: 'Service Unavailable' },
    });
    await start();
    expect((await signed(base, 'GET', 'gossip')).status).toBe(404); // gossip is POST only, as in the Nest controller
    expect((await signed(base, 'POST', 'nonsense', {})).status).toBe(404);
    expect((await fetch(`${base}/clustershazbot/list/extra`)).status).toBe(404);
    if (mode !== 'node:http') expect(await (await fetch(`${base}/hello`)).json()).toEqual({ host: 'route' });
  });
});

describe('clustershazbotRouter options', () => {
  it('routePrefix: answers where a rewriting proxy delivers, and checks signatures against the module prefix', async () => {
    await start();
    const base = await app('express.json', { routePrefix: '/internal/' });
    expect((await signed(base, 'GET', 'list', undefined, { path: '/internal/list' })).status).toBe(200);
    expect((await signed(base, 'GET', 'list')).status).toBe(404);
  });

  it('clientAddress: the failed-authentication limit counts the address it returns', async () => {
    await start({ authFailureLimit: 1 });
    let client = '203.0.113.9';
    const base = await app('no parser', { clientAddress: () => client });
    expect((await fetch(`${base}/clustershazbot/list`)).status).toBe(401);
    expect((await fetch(`${base}/clustershazbot/list`)).status).toBe(429);
    client = '203.0.113.10';
    expect((await fetch(`${base}/clustershazbot/list`)).status).toBe(401);
  });
});

/**
 * An Express app routing the endpoints by hand with the plain functions (docs/express.md),
 * all but sync: its own base URL answers probe, so peers would take it for a page-format
 * server and sync with it by full lists. The self-check says so once at start.
 */
describe('the self-check of an Express app: does its own base URL answer sync?', () => {
  const warnings: string[] = [];
  /** Sync requests the app received (the self-check's among them), answered or not. */
  let syncsReceived = 0;
  beforeEach(() => {
    syncsReceived = 0;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    warnings.splice(0);
  });

  type Reply = { client?: string; setHeader: (name: string, value: string) => void };

  /** Express with a counter of sync requests in front; `routes` mounts the endpoints. */
  async function expressApp(routes: (application: express.Express) => void): Promise<string> {
    const application = express();
    application.use((req, _res, next) => {
      if (req.path === '/clustershazbot/sync') syncsReceived++;
      next();
    });
    application.use(express.json({ limit: '4mb' }));
    routes(application);
    return listen(createServer(application));
  }

  /** Every endpoint but sync, routed by hand as docs/express.md shows. */
  function allButSync(application: express.Express): void {
    const route = (method: 'get' | 'post', endpoint: string, handle: (auth: string, req: Request, reply: Reply) => Promise<unknown>) =>
      application[method](`/clustershazbot/${endpoint}`, async (req: Request, res: Response) => {
        try {
          const reply = { client: req.ip, setHeader: (name: string, value: string) => void res.setHeader(name, value) };
          const answer = await handle(req.headers.authorization ?? '', req, reply);
          res.json(answer ?? { success: true });
        } catch (error) {
          res.status(error instanceof ClustershazbotRequestError ? error.status : 500).json({ error: error instanceof Error ? error.message : String(error) });
        }
      });
    route('post', 'gossip', (a, req, r) => shazbotGossipRequest(a, req.body as GossipMessage, r));
    route('post', 'probe', (a, req, r) => shazbotProbeRequest(a, req.body as ProbeMessage, r));
    route('get', 'list', (a, _req, r) => shazbotListRequest(a, r));
    route('get', 'state', (a, _req, r) => shazbotStateRequest(a, r));
    route('post', 'control', (a, req, r) => shazbotControlRequest(a, req.body as ControlMessage, r));
  }

  async function waitFor(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; problems: ${JSON.stringify(shazbotCluster().status().problems)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const health = () => new ClusterHealthIndicator(new HealthIndicatorService(), shazbotCluster()).isHealthy().cluster;

  it('every endpoint but sync: one warning naming its sync endpoint and the fix, the base-url problem, health degraded', async () => {
    const base = await expressApp(allButSync);
    await start({ baseUrl: `${base}/` });
    // the first self-check runs 2 s after start, the sync check right after it
    await waitFor('the base-url problem', () => shazbotCluster().status().problems.some((p) => p.code === 'base-url'));
    const problem = shazbotCluster().status().problems.find((p) => p.code === 'base-url')!;
    expect(problem.setting).toBe('SHAZBOT_BASE_URL');
    expect(problem.message).toContain(`does not answer its own sync endpoint ${base}/clustershazbot/sync (404)`);
    expect(problem.message).toContain('app.use(clustershazbotRouter())');
    expect(health()).toMatchObject({ status: 'degraded', problems: ['base-url'] });
    await new Promise((r) => setTimeout(r, 3000)); // more self-checks (every 60 s) would not ask again; the warning stays one
    expect(warnings.filter((w) => w.includes(`${base}/clustershazbot/sync`))).toHaveLength(1);
    expect(syncsReceived).toBe(1);
  }, 30_000);

  it('clustershazbotRouter(): its own sync endpoint answers, no problem, health up', async () => {
    const base = await expressApp((application) => application.use(clustershazbotRouter()));
    await start({ baseUrl: `${base}/` });
    await waitFor('the self-check\'s sync request', () => syncsReceived > 0);
    await new Promise((r) => setTimeout(r, 2000)); // problems are evaluated every second
    expect(shazbotCluster().status().problems).toEqual([]);
    expect(health()).toMatchObject({ status: 'up' });
    expect(warnings.filter((w) => w.includes('sync endpoint'))).toEqual([]);
  }, 30_000);
});

describe("the README's Express /health route", () => {
  /** The route as README.md shows it (the test below checks the README still does). */
  const health = (_req: Request, res: Response) => {
    const health = shazbotHealthExtension(); // { status: 'ok', cluster } or { status: 'error', error }
    res.status(health.status === 'ok' ? 200 : 503).json(health); // 503: not started, or stopped
  };

  it('is the route the README shows', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain("app.get('/health', (_req, res) => {\n  const health = shazbotHealthExtension();");
    expect(readme).toContain("  res.status(health.status === 'ok' ? 200 : 503).json(health);");
  });

  it('answers 503 before start and after shutdown, 200 while the module runs', async () => {
    const web = express();
    web.get('/health', health);
    const base = await listen(createServer(web));
    const before = await fetch(`${base}/health`);
    expect([before.status, await before.json()]).toEqual([503, { status: 'error', error: expect.stringContaining('not started') }]);
    await shazbotStart(baseOptions(), []);
    const running = await fetch(`${base}/health`);
    expect([running.status, ((await running.json()) as { status: string }).status]).toEqual([200, 'ok']);
    await shazbotShutDown();
    const after = await fetch(`${base}/health`);
    expect(after.status).toBe(503);
  });
});
