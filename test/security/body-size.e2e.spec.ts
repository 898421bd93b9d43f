/**
 * Body size (issue 18, item 9): `maxBodyBytes` holds for chunked bodies (no Content-Length)
 * too, on real Nest apps on Express and Fastify, with and without raw bodies. The host's body
 * parser reads a body before any guard runs; its own limit bounds what is buffered (SECURITY.md).
 */
import type { INestApplication } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { ClustershazbotModule } from '../../lib/index.js';
import { auth } from '../support/signed.js';
import { baseOptions, createApp, PLATFORMS, SECRET } from '../e2e/app-fixture.js';

const PATH = '/clustershazbot/gossip';

/** A gossip body whose JSON is about `bytes` long. */
function gossipOf(bytes: number) {
  const online = [];
  for (let i = 0; JSON.stringify(online).length < bytes - 40; i++) online.push({ baseUrl: `http://127.0.0.1:${1000 + i}/`, monitor: false, lastUpdate: 1 });
  return { message: 'gossip', online };
}

/** POSTs `text` with Transfer-Encoding: chunked (no Content-Length), in pieces of 500 bytes. */
function postChunked(port: number, text: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers: { authorization, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (let i = 0; i < text.length; i += 500) req.write(text.slice(i, i + 500));
    req.end();
  });
}

const SETUPS = PLATFORMS.flatMap((platform) => [false, true].map((rawBody) => [platform, rawBody] as const));

describe.each(SETUPS)('a chunked body on %s (rawBody: %s)', (platform, rawBody) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ maxBodyBytes: 2048, messageBudgetBytes: 2048, maxStateValueBytes: 512 })), [], { rawBody });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it('a validly signed body over maxBodyBytes gets 413; one under it is accepted', async () => {
    const big = gossipOf(2751);
    const text = JSON.stringify(big);
    expect(text.length).toBeGreaterThan(2048);
    const refused = await postChunked(port, text, auth(SECRET, 'POST', PATH, big).authorization);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).message).toBe('Request body larger than 2048 bytes');
    const small = gossipOf(1500);
    expect((await postChunked(port, JSON.stringify(small), auth(SECRET, 'POST', PATH, small).authorization)).status).toBe(200);
  });
});
