/**
 * Signed replies (issue 18, item 1) between real Nest apps on Express and Fastify, and from the
 * plain-function API: every answer to a verified request carries a Shazbot-Signature bound to
 * that request, and the transport uses nothing else. A squatter, a forger, a replayed genuine
 * reply and an unrelated web server are each one failed exchange, with the failure marked.
 */
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import { canonicalJson, ClustershazbotModule, shazbotGossipRequest, shazbotListRequest, shazbotShutDown, shazbotStart, signRequest, verifyReply, type GossipMessage } from '../../lib/index.js';
import { GOSSIP_TRANSPORT } from '../../lib/clustershazbot.constants.js';
import type { HttpGossipTransport, TransportError } from '../../lib/http-gossip.transport.js';
import { freePort } from '../../sample/local-cluster.js';
import { auth } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, createApp, entry, PLATFORMS, ROTATED_SECRET, SECRET, SELF } from '../e2e/app-fixture.js';

jest.setTimeout(60_000);

/** A signed request with a known nonce, so the reply's signature can be checked against it. */
function signedFor(secret: string, method: 'GET' | 'POST', endpoint: string, body?: unknown, over: { ts?: number; cluster?: string } = {}) {
  const nonce = randomBytes(16).toString('base64url');
  const authorization = signRequest(secret, { method, target: SELF, path: `/clustershazbot/${endpoint}`, cluster: over.cluster ?? 'default', body }, over.ts ?? Date.now(), nonce);
  return { nonce, authorization };
}

const CASES: { endpoint: string; method: 'GET' | 'POST'; secret: string; body?: unknown }[] = [
  { endpoint: 'gossip', method: 'POST', secret: SECRET, body: { message: 'gossip', online: [entry('http://127.0.0.31:1/')], offline: [] } },
  { endpoint: 'probe', method: 'POST', secret: ROTATED_SECRET, body: { message: 'probe', online: [] } },
  { endpoint: 'sync', method: 'POST', secret: SECRET, body: { message: 'sync', hash: '0000000000000000', buckets: Buffer.alloc(256).toString('base64') } },
  { endpoint: 'list', method: 'GET', secret: SECRET },
  { endpoint: 'state', method: 'GET', secret: ROTATED_SECRET },
  { endpoint: 'control', method: 'POST', secret: CONTROL_SECRET, body: { message: 'control', online: true } },
];

describe.each(PLATFORMS)('replies of a Nest app on %s', (platform) => {
  let app: INestApplication;
  const startedAt = Date.now();
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
  });
  afterAll(() => app.close());

  it.each(CASES)('$endpoint: the answer is its canonical JSON, signed for this very request with the secret that signed it', async ({ endpoint, method, secret, body }) => {
    const { nonce, authorization } = signedFor(secret, method, endpoint, body);
    const path = `/clustershazbot/${endpoint}`;
    const res = method === 'GET' ? await http().get(path).set({ authorization }) : await http().post(path).set({ authorization }).send(body as object);
    expect(res.status).toBe(200);
    expect(res.text).toBe(canonicalJson(res.body));
    const header = res.headers['shazbot-signature'];
    expect(verifyReply(header, [secret], { nonce, status: 200, rawBody: Buffer.from(res.text) })).toEqual({ ok: true, cluster: 'default', ts: expect.any(Number) });
    // bound to the request: worthless for another one, or under another secret
    expect(verifyReply(header, [secret], { nonce: randomBytes(16).toString('base64url'), status: 200, rawBody: Buffer.from(res.text) })).toEqual({ ok: false });
    expect(verifyReply(header, ['another-secret'], { nonce, status: 200, rawBody: Buffer.from(res.text) })).toEqual({ ok: false });
  });

  it('a 403 (another cluster) is signed and names this cluster; a refused signature gets no signature', async () => {
    const body = { message: 'gossip', online: [] };
    const other = signedFor(SECRET, 'POST', 'gossip', body, { cluster: 'another-cluster' });
    const forbidden = await http().post('/clustershazbot/gossip').set({ authorization: other.authorization }).send(body);
    expect(forbidden.status).toBe(403);
    expect(verifyReply(forbidden.headers['shazbot-signature'], [SECRET], { nonce: other.nonce, status: 403 })).toMatchObject({ ok: true, cluster: 'default' });
    const refused = await http().post('/clustershazbot/gossip').set(auth('wrong-secret', 'POST', '/clustershazbot/gossip', body)).send(body);
    expect(refused.status).toBe(401);
    expect(refused.headers['shazbot-signature']).toBeUndefined();
  });

  it('a request signed before the process started gets a signed 401 that gives the server clock', async () => {
    const body = { message: 'gossip', online: [] };
    const early = signedFor(SECRET, 'POST', 'gossip', body, { ts: startedAt - 1000 });
    const res = await http().post('/clustershazbot/gossip').set({ authorization: early.authorization }).send(body);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
    const proof = verifyReply(res.headers['shazbot-signature'], [SECRET], { nonce: early.nonce, status: 401 });
    expect(proof).toMatchObject({ ok: true, cluster: 'default' });
    expect(Math.abs((proof as { ts: number }).ts - Date.now())).toBeLessThan(5000);
  });
});

/** A web server on loopback answering every request with `answer`; counts what it got. */
async function fakePeer(answer: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, hits: () => hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const INVENTED = { online: [entry('http://127.0.0.99:1/')], offline: [], message: 'ack', ack: true };

describe.each(PLATFORMS)('the transport of a Nest app on %s', (platform) => {
  let a: INestApplication;
  let b: INestApplication;
  let bUrl: string;
  let transport: HttpGossipTransport;
  const fakes: { close: () => Promise<void> }[] = [];

  beforeAll(async () => {
    a = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}/`;
    b = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ baseUrl: bUrl })));
    await b.listen(port, '127.0.0.1');
    transport = a.get<HttpGossipTransport>(GOSSIP_TRANSPORT, { strict: false });
  });
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await a.close();
    await b.close();
  });

  const probe = (url: string) => transport.probe(url, { message: 'probe', online: [] }, 1000);
  const failureOf = async (promise: Promise<unknown>): Promise<TransportError> => {
    try {
      await promise;
    } catch (error) {
      return error as TransportError;
    }
    throw new Error('expected the call to fail');
  };

  it('a real peer: its signed answers are used, on every endpoint', async () => {
    await expect(probe(bUrl)).resolves.toMatchObject({ message: 'ack', ack: true });
    await expect(transport.exchange(bUrl, { message: 'gossip', online: [], offline: [] })).resolves.toMatchObject({ online: [expect.objectContaining({ baseUrl: bUrl })] });
    await expect(transport.sync(bUrl, { message: 'sync', hash: '0000000000000000' })).resolves.toMatchObject({ message: 'sync' });
  });

  it('a process without the secret answering 200 with invented lists: EREPLYAUTH, nothing used', async () => {
    const squatter = await fakePeer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(INVENTED)));
    fakes.push(squatter);
    expect(await failureOf(probe(squatter.url))).toMatchObject({ code: 'EREPLYAUTH', replyStatus: 200, authenticated: false });
    expect(await failureOf(transport.exchange(squatter.url, { message: 'gossip', online: [] }))).toMatchObject({ code: 'EREPLYAUTH' });
    expect(await failureOf(transport.sync(squatter.url, { message: 'sync' }))).toMatchObject({ code: 'EREPLYAUTH' });
    expect(squatter.hits()).toBe(3);
  });

  it('a genuine reply replayed to another request, and a signature made with another secret: EREPLYAUTH', async () => {
    // capture one genuine answer of B (headers and body), then serve it to every request
    const captured = await request(b.getHttpServer()).post('/clustershazbot/probe').set(auth(SECRET, 'POST', '/clustershazbot/probe', { message: 'probe', online: [] }, 'default', bUrl)).send({ message: 'probe', online: [] });
    expect(captured.status).toBe(200);
    const replayer = await fakePeer((_req, res) => res.setHeader('content-type', 'application/json').setHeader('shazbot-signature', captured.headers['shazbot-signature']).end(captured.text));
    fakes.push(replayer);
    expect(await failureOf(probe(replayer.url))).toMatchObject({ code: 'EREPLYAUTH', authenticated: false });
    const forger = await fakePeer((req, res) => {
      // a well-formed signature over the right request, with a secret the cluster does not accept
      const nonce = /nonce=([A-Za-z0-9_-]+)/.exec(String(req.headers.authorization))![1];
      const text = canonicalJson(INVENTED);
      const header = `Shazbot-HMAC-SHA256 cluster=default, ts=${Date.now()}, sig=${createForgery(nonce, text)}`;
      res.setHeader('content-type', 'application/json').setHeader('shazbot-signature', header).end(text);
    });
    fakes.push(forger);
    expect(await failureOf(probe(forger.url))).toMatchObject({ code: 'EREPLYAUTH', authenticated: false });
  });

  it('an unsigned 403 does not pass for another cluster; a 404 keeps its status, marked unauthenticated', async () => {
    const forbidden = await fakePeer((_req, res) => res.writeHead(403).end('{"statusCode":403}'));
    const missing = await fakePeer((_req, res) => res.writeHead(404).end('<html>Not Found</html>'));
    fakes.push(forbidden, missing);
    const f403 = await failureOf(probe(forbidden.url));
    expect(f403).toMatchObject({ code: 'EREPLYAUTH', replyStatus: 403, authenticated: false });
    expect(f403.status).toBeUndefined();
    expect(await failureOf(probe(missing.url))).toMatchObject({ code: 'EREPLYAUTH', status: 404, replyStatus: 404, authenticated: false });
  });

  it('a signed 403 from a server of another cluster keeps its status', async () => {
    const port = await freePort();
    const otherUrl = `http://127.0.0.1:${port}/`;
    const other = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ baseUrl: otherUrl, cluster: 'another-cluster' })));
    await other.listen(port, '127.0.0.1');
    try {
      expect(await failureOf(probe(otherUrl))).toMatchObject({ status: 403, replyStatus: 403, authenticated: true });
    } finally {
      await other.close();
    }
  });
});

/** HMAC-SHA256 with a secret nobody in the cluster holds, over the reply's six lines. */
function createForgery(nonce: string, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex');
  return createHmac('sha256', 'not-the-cluster-secret').update(`SHAZBOT-REPLY-HMAC-SHA256\n${nonce}\n200\n${Date.now()}\ndefault\n${hash}`).digest('base64url');
}

describe('replies of the plain-function API', () => {
  afterEach(() => shazbotShutDown());

  it('are signed through setHeader; without it, one warning names the fix', async () => {
    await shazbotStart(baseOptions(), []);
    const gossip: GossipMessage = { message: 'gossip', online: [] };
    const { nonce, authorization } = signedFor(SECRET, 'POST', 'gossip', gossip);
    const headers: Record<string, string> = {};
    const view = await shazbotGossipRequest(authorization, gossip, { client: '203.0.113.7', setHeader: (name, value) => (headers[name] = value) });
    // an Express app answers with res.json(view): other JSON than the canonical text, verified through the parsed body
    const sent = JSON.stringify(view);
    expect(verifyReply(headers['shazbot-signature'], [SECRET], { nonce, status: 200, rawBody: Buffer.from(sent), body: JSON.parse(sent) })).toMatchObject({ ok: true });
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await shazbotListRequest(signedFor(SECRET, 'GET', 'list').authorization, '203.0.113.7');
      await shazbotListRequest(signedFor(SECRET, 'GET', 'list').authorization, '203.0.113.7');
      const warnings = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('unsigned'));
      expect(warnings).toEqual([expect.stringContaining('setHeader: (name, value) => res.setHeader(name, value)')]);
    } finally {
      warn.mockRestore();
    }
  });
});
