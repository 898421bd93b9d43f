/**
 * Hostile input against the real endpoints (Express and Fastify): property-based bodies and
 * headers. Never a 5xx, never a crash, the view unchanged by every refused request, every
 * accepted one answered with a reply signed for it, and no secret in any log line captured
 * meanwhile. Replays to another server and after a restart are refused; hostile replies
 * (arbitrary statuses, bodies and signature headers, forged without the secret) are never used.
 */
import { jest } from '@jest/globals';
import type { INestApplication, LoggerService } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { createServer } from 'node:http';
import { ClustershazbotModule, signReply, signRequest, verifyReply } from '../../lib/index.js';
import { GOSSIP_TRANSPORT } from '../../lib/clustershazbot.constants.js';
import type { HttpGossipTransport } from '../../lib/http-gossip.transport.js';
import { auth, signedGet } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, createApp, PLATFORMS, ROTATED_SECRET, SECRET, SELF } from './app-fixture.js';

jest.setTimeout(120_000);

const ENDPOINTS = ['gossip', 'probe', 'sync', 'control'] as const;

/** The nonce of a signed request's Authorization header: its reply's signature is bound to it. */
const nonceOf = (authorization: string) => /nonce=([A-Za-z0-9_-]+)/.exec(authorization)![1];
const RUNS = 150;

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private keep = (...parts: unknown[]) => this.lines.push(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
  log = this.keep;
  error = this.keep;
  warn = this.keep;
  debug = this.keep;
  verbose = this.keep;
  fatal = this.keep;
}

/** Bodies that look almost right: valid shapes with one field broken, plus arbitrary JSON. */
const entryArb = fc.record(
  {
    baseUrl: fc.oneof(fc.webUrl(), fc.string(), fc.constant('http://169.254.169.254/'), fc.constant('javascript:alert(1)'), fc.integer()),
    monitor: fc.oneof(fc.boolean(), fc.string(), fc.constant(null)),
    lastUpdate: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER), fc.string()),
    by: fc.oneof(fc.webUrl(), fc.string()),
  },
  { requiredKeys: [] },
);
const stateDeltaArb = fc.record(
  {
    server: fc.oneof(fc.webUrl(), fc.string()),
    from: fc.oneof(fc.nat(), fc.double(), fc.string()),
    to: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer()),
    floor: fc.oneof(fc.nat(), fc.string()),
    entries: fc.array(fc.record({ key: fc.oneof(fc.string(), fc.integer()), version: fc.oneof(fc.nat(), fc.string()), value: fc.jsonValue(), ttlMs: fc.integer(), deleted: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }), { maxLength: 4 }),
  },
  { requiredKeys: [] },
);
const syncArb = fc.record(
  {
    message: fc.oneof(fc.constant('sync'), fc.string()),
    hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), fc.string()),
    buckets: fc.oneof(fc.base64String(), fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64'))),
    digest: fc.array(fc.tuple(fc.oneof(fc.webUrl(), fc.string()), fc.oneof(fc.nat(), fc.double()), fc.integer({ min: -1, max: 3 }), fc.nat()), { maxLength: 5 }),
    want: fc.array(fc.jsonValue(), { maxLength: 3 }),
    complete: fc.array(fc.integer({ min: -5, max: 5000 }), { maxLength: 4 }),
    leaves: fc.array(fc.record({ bucket: fc.integer({ min: -1, max: 70 }), hashes: fc.base64String() }), { maxLength: 2 }),
    members: fc.record({ online: fc.array(entryArb, { maxLength: 3 }) }),
    state: fc.array(stateDeltaArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const bodyArb = fc.oneof(
  fc.jsonValue(),
  syncArb,
  fc.record({ message: fc.oneof(fc.constantFrom('gossip', 'probe', 'control', 'ack'), fc.string()), online: fc.oneof(fc.array(entryArb, { maxLength: 5 }), fc.jsonValue()), offline: fc.array(entryArb, { maxLength: 3 }), target: fc.oneof(fc.webUrl(), fc.string()), extra: fc.jsonValue() }, { requiredKeys: [] }),
  fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))),
);
const headerArb = fc.oneof(
  fc.string(),
  fc.constant(`Bearer ${SECRET}`),
  fc.string().map((s) => `Shazbot-HMAC-SHA256 ${s}`),
  fc.record({ ts: fc.integer(), nonce: fc.base64String(), sig: fc.base64String(), cluster: fc.string() }).map((h) => `Shazbot-HMAC-SHA256 cluster=${h.cluster}, ts=${h.ts}, nonce=${h.nonce}, sig=${h.sig}`),
);

// each platform as it comes, and keeping raw bodies (the guard then also hashes the bytes as received)
const SETUPS = PLATFORMS.flatMap((platform) => [false, true].map((rawBody) => [platform, rawBody] as const));

describe.each(SETUPS)('hostile input on %s (rawBody: %s)', (platform, rawBody) => {
  let app: INestApplication;
  const logger = new CapturingLogger();
  let tried = 0;

  beforeAll(async () => {
    // the failed-authentication limit is tested on its own below; here every request must reach the checks
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ authFailureLimit: 0 })), [], { rawBody });
    app.useLogger(logger);
  });
  afterAll(async () => {
    await app.close();
    console.log(`${platform}${rawBody ? ' with rawBody' : ''}: ${tried} hostile requests, no 5xx, view unchanged, no secret in ${logger.lines.length} log lines`);
  });

  const view = async () => (await signedGet(request(app.getHttpServer()), '/clustershazbot/list', SECRET)).body;

  it.each(ENDPOINTS)('POST %s: arbitrary bodies and headers are refused with a 4xx and change nothing', async (endpoint) => {
    const before = await view();
    await fc.assert(
      fc.asyncProperty(bodyArb, headerArb, fc.boolean(), async (body, header, signIt) => {
        tried++;
        const path = `/clustershazbot/${endpoint}`;
        // half the cases carry a valid signature over a different body: authentic sender, tampered payload
        const authorization = signIt ? signRequest(endpoint === 'control' ? CONTROL_SECRET : ROTATED_SECRET, { method: 'POST', target: SELF, path, cluster: 'default', body: { tampered: true } }) : header;
        const res = await request(app.getHttpServer()).post(path).set('authorization', authorization).set('content-type', 'application/json').send(JSON.stringify(body));
        return res.status >= 400 && res.status < 500;
      }),
      { numRuns: RUNS },
    );
    expect(await view()).toEqual(before);
  });

  it.each(ENDPOINTS)('POST %s: validly signed but invalid bodies get 400 and change nothing', async (endpoint) => {
    const before = await view();
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        tried++;
        const path = `/clustershazbot/${endpoint}`;
        const secret = endpoint === 'control' ? CONTROL_SECRET : SECRET;
        const signed = auth(secret, 'POST', path, body);
        const res = await request(app.getHttpServer()).post(path).set(signed).set('content-type', 'application/json').send(JSON.stringify(body));
        // an arbitrary body is almost never valid; when it is, it is a legitimate request, whose answer is signed for it
        if (res.status === 200) return verifyReply(res.headers['shazbot-signature'], [secret], { nonce: nonceOf(signed.authorization), status: 200, rawBody: Buffer.from(res.text) }).ok;
        return res.status >= 400 && res.status < 500;
      }),
      { numRuns: RUNS },
    );
    const after = await view();
    // valid gossip could add entries; nothing that was there may be lost or downgraded
    for (const e of before.online) expect(after.online.concat(after.offline, after.suspect ?? []).map((x: { baseUrl: string }) => x.baseUrl)).toContain(e.baseUrl);
  });

  it('oversized, non-JSON and deeply nested bodies are 4xx, not 5xx', async () => {
    const path = '/clustershazbot/gossip';
    const huge = { message: 'gossip', online: Array.from({ length: 60_000 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${i}/`, monitor: false, lastUpdate: 1 })) };
    const cases: [string, string][] = [
      ['huge', JSON.stringify(huge)],
      ['not json', '{"message": gossip'],
      ['deep', '['.repeat(100_000) + ']'.repeat(100_000)],
      ['deep object', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)],
    ];
    for (const [what, text] of cases) {
      tried++;
      const res = await request(app.getHttpServer()).post(path).set(auth(SECRET, 'POST', path, undefined)).set('content-type', 'application/json').send(text);
      expect([what, res.status >= 400 && res.status < 500, res.status]).toEqual([what, true, res.status]);
    }
  });

  it('failures past the limit get 429, yet a valid request from the same client is accepted; bodies over the limit get 413', async () => {
    const limited = await createApp(platform, ClustershazbotModule.forRoot(baseOptions({ authFailureLimit: 5, maxBodyBytes: 2048, messageBudgetBytes: 2048, maxStateValueBytes: 512 })), [], { rawBody });
    try {
      const http = () => request(limited.getHttpServer());
      const path = '/clustershazbot/gossip';
      const body = { message: 'gossip', online: [] };
      const big = { message: 'gossip', online: Array.from({ length: 40 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${1000 + i}/`, monitor: false, lastUpdate: 1 })) };
      const tooBig = await http().post(path).set(auth(SECRET, 'POST', path, big)).send(big);
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.message).toBe('Request body larger than 2048 bytes');
      for (let i = 0; i < 5; i++) await http().post(path).set('authorization', 'Bearer nope').send(body).expect(401);
      const blocked = await http().post(path).set('authorization', 'Bearer nope').send(body);
      expect(blocked.status).toBe(429);
      expect(blocked.body.message).toBe('Too many failed authentications from this address; try again later');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      await http().post(path).set(auth(SECRET, 'POST', path, body)).send(body).expect(200);
      tried += 8;
    } finally {
      await limited.close();
    }
  });

  it('replays refused: a request signed for another server, and one accepted before a restart (a new app, same configuration)', async () => {
    const path = '/clustershazbot/gossip';
    const body = { message: 'gossip', online: [] };
    for (const target of ['http://127.0.0.1:10/', 'http://127.0.0.2:9/', 'https://127.0.0.1:9/', 'http://127.0.0.1:9/other/']) {
      tried++;
      await request(app.getHttpServer()).post(path).set(auth(SECRET, 'POST', path, body, 'default', target)).send(body).expect(401);
    }
    const options = baseOptions({ authFailureLimit: 0 });
    const first = await createApp(platform, ClustershazbotModule.forRoot(options), [], { rawBody });
    const captured = auth(SECRET, 'POST', path, body);
    try {
      await request(first.getHttpServer()).post(path).set(captured).send(body).expect(200);
      await request(first.getHttpServer()).post(path).set(captured).send(body).expect(401);
    } finally {
      await first.close();
    }
    const restarted = await createApp(platform, ClustershazbotModule.forRoot(options), [], { rawBody });
    try {
      const replayed = await request(restarted.getHttpServer()).post(path).set(captured).send(body);
      expect(replayed.status).toBe(401);
      // the refusal is signed (the signature was valid): it tells a peer whose clock is behind what time it is here
      expect(verifyReply(replayed.headers['shazbot-signature'], [SECRET], { nonce: nonceOf(captured.authorization), status: 401 }).ok).toBe(true);
      tried += 3;
    } finally {
      await restarted.close();
    }
  });

  it('hostile replies: a peer answering arbitrary statuses, bodies and signature headers is never used', async () => {
    const transport = app.get<HttpGossipTransport>(GOSSIP_TRANSPORT, { strict: false });
    // what the peer answers; the signature header is made per request, knowing its nonce, as a forger on the path would
    let reply: { status: number; body: string; header: (nonce: string, status: number, body: string) => string | undefined } = { status: 200, body: '{}', header: () => undefined };
    const peer = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const nonce = /nonce=([A-Za-z0-9_-]+)/.exec(String(req.headers.authorization))?.[1] ?? '';
        const header = reply.header(nonce, reply.status, reply.body);
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(header === undefined ? {} : { 'shazbot-signature': header }) });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(peer.address() as { port: number }).port}/`;
    const invented = { message: 'ack', ack: true, online: [{ baseUrl: 'http://127.0.0.98:1/', monitor: true, lastUpdate: Date.now() }], offline: [] };
    const parsed = (body: string) => {
      try {
        return JSON.parse(body) as unknown;
      } catch {
        return body;
      }
    };
    type Forge = (nonce: string, status: number, body: string) => string | undefined;
    const forgeArb: fc.Arbitrary<Forge> = fc.oneof(
      fc.constant<Forge>(() => undefined),
      fc.string().map<Forge>((text) => () => text),
      // well-formed, with a made-up signature
      fc.record({ ts: fc.nat(), sig: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/) }).map<Forge>(({ ts, sig }) => () => `Shazbot-HMAC-SHA256 cluster=default, ts=${ts}, sig=${sig}`),
      // right request, status and body, with a secret the cluster does not hold
      fc.constant<Forge>((nonce, status, body) => signReply('not-ours', { nonce, status, cluster: 'default', body: parsed(body) })),
      // a genuine signature of another reply: another request, another status or another body
      fc.constantFrom<Forge>(
        (_nonce, status, body) => signReply(SECRET, { nonce: 'another-request-nonce-0001', status, cluster: 'default', body: parsed(body) }),
        (nonce, status, body) => signReply(SECRET, { nonce, status: status === 200 ? 403 : 200, cluster: 'default', body: parsed(body) }),
        (nonce) => signReply(SECRET, { nonce, status: 200, cluster: 'default', body: { other: true } }),
      ),
    );
    const bodyArb = fc.oneof(fc.constant(JSON.stringify(invented)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string());
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(200, 401, 403, 404, 500), bodyArb, forgeArb, async (status, body, header) => {
          // (the last forger signs status 200 over another body: for a 200 carrying that very body, it would be genuine)
          if (status === 200 && body === JSON.stringify({ other: true })) return true;
          tried++;
          reply = { status, body, header };
          try {
            await transport.probe(url, { message: 'probe', online: [] }, 1000);
            return false; // nothing here is signed for the request with an accepted secret
          } catch (error) {
            const { status: seen, authenticated } = error as { status?: number; authenticated?: boolean };
            // marked unauthenticated, and never with the status that gets a peer dropped (403)
            return authenticated === false && seen !== 403;
          }
        }),
        { numRuns: RUNS },
      );
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it('no secret appears in any log line (with audit and warning lines among them)', async () => {
    app.useLogger(logger); // other apps created meanwhile (logger: false) replaced Nest's global logger
    const http = () => request(app.getHttpServer());
    for (const online of [false, true]) {
      const body = { message: 'control', online };
      await http().post('/clustershazbot/control').set(auth(CONTROL_SECRET, 'POST', '/clustershazbot/control', body)).send(body).expect(200);
    }
    const future = { message: 'gossip', online: [{ baseUrl: 'http://127.0.0.77:1/', monitor: false, lastUpdate: Date.now() + 3_600_000 }] };
    await http().post('/clustershazbot/gossip').set(auth(SECRET, 'POST', '/clustershazbot/gossip', future)).send(future).expect(200);
    expect(logger.lines.some((l) => l.includes('control from'))).toBe(true);
    expect(logger.lines.some((l) => l.includes('in the future'))).toBe(true);
    const all = logger.lines.join('\n');
    for (const secret of [SECRET, ROTATED_SECRET, CONTROL_SECRET]) expect(all).not.toContain(secret);
  });
});
