/**
 * One mapping from a request's verdict to its answer (issue 18; issue 13): the Nest guard and
 * the plain-function API call the same function, so the same request gets the same status,
 * message and headers from both. A real Nest app on Express and Fastify against the functions.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClustershazbotModule, ClustershazbotRequestError, shazbotGossipRequest, shazbotShutDown, shazbotStart, type GossipMessage } from '../../lib/index.js';
import { auth } from '../support/signed.js';
import { baseOptions, createApp, PLATFORMS, SECRET } from '../e2e/app-fixture.js';

const PATH = '/clustershazbot/gossip';
const options = () => baseOptions({ authFailureLimit: 4, maxBodyBytes: 2048, messageBudgetBytes: 2048, maxStateValueBytes: 512 }); // the four failures below, then the limit

const deep = JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown;
const big = { message: 'gossip', online: Array.from({ length: 40 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${1000 + i}/`, monitor: false, lastUpdate: 1 })) };
const ok = { message: 'gossip', online: [] };

/** Each case: a name, the Authorization header, the body; run in this order (the last ones trip the limit). */
const CASES: [string, () => string, unknown][] = [
  ['accepted', () => auth(SECRET, 'POST', PATH, ok).authorization, ok],
  ['no header', () => '', ok],
  ['a wrong secret', () => auth('wrong', 'POST', PATH, ok).authorization, ok],
  ['another cluster', () => auth(SECRET, 'POST', PATH, ok, 'another-cluster').authorization, ok],
  ['signed for another server', () => auth(SECRET, 'POST', PATH, ok, 'default', 'http://127.0.0.1:10/').authorization, ok],
  ['JSON nested too deep', () => auth(SECRET, 'POST', PATH, deep).authorization, deep],
  ['a body over maxBodyBytes', () => auth(SECRET, 'POST', PATH, big).authorization, big],
  ['failing past the limit', () => 'Bearer guess', ok],
  ['a valid signature past the limit', () => auth(SECRET, 'POST', PATH, ok).authorization, ok],
];

type Answer = { status: number; message?: string; retryAfter?: boolean; signed: boolean };

async function viaFunctions(): Promise<Answer[]> {
  await shazbotStart(options(), []);
  try {
    const answers: Answer[] = [];
    for (const [, header, body] of CASES) {
      const headers: Record<string, string> = {};
      try {
        await shazbotGossipRequest(header(), body as GossipMessage, { client: '203.0.113.5', setHeader: (n, v) => (headers[n] = v) });
        answers.push({ status: 200, signed: 'shazbot-signature' in headers });
      } catch (error) {
        const e = error as ClustershazbotRequestError;
        answers.push({ status: e.status, message: e.message, retryAfter: 'retry-after' in headers, signed: 'shazbot-signature' in headers });
      }
    }
    return answers;
  } finally {
    await shazbotShutDown();
  }
}

describe.each(PLATFORMS)('the guard on %s and the plain functions', (platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(options()));
  });
  afterAll(() => app.close());

  it('answer every case alike', async () => {
    const viaGuard: Answer[] = [];
    for (const [, header, body] of CASES) {
      const res = await request(app.getHttpServer()).post(PATH).set({ authorization: header(), 'content-type': 'application/json' }).send(JSON.stringify(body));
      viaGuard.push(res.status === 200 ? { status: 200, signed: 'shazbot-signature' in res.headers } : { status: res.status, message: res.body.message, retryAfter: 'retry-after' in res.headers, signed: 'shazbot-signature' in res.headers });
    }
    const functions = await viaFunctions();
    const named = (answers: Answer[]) => answers.map((a, i) => [CASES[i][0], a]);
    expect(named(functions)).toEqual(named(viaGuard));
    expect(named(viaGuard)).toEqual([
      ['accepted', { status: 200, signed: true }],
      ['no header', { status: 401, message: 'Unauthorized', retryAfter: false, signed: false }],
      ['a wrong secret', { status: 401, message: 'Unauthorized', retryAfter: false, signed: false }],
      ['another cluster', { status: 403, message: 'Forbidden: the request was signed for another cluster', retryAfter: false, signed: true }],
      ['signed for another server', { status: 401, message: 'Unauthorized', retryAfter: false, signed: false }],
      ['JSON nested too deep', { status: 400, message: 'JSON body nested deeper than 32 levels', retryAfter: false, signed: false }],
      ['a body over maxBodyBytes', { status: 413, message: 'Request body larger than 2048 bytes', retryAfter: false, signed: false }],
      ['failing past the limit', { status: 429, message: 'Too many failed authentications from this address; try again later', retryAfter: true, signed: false }],
      ['a valid signature past the limit', { status: 200, signed: true }],
    ]);
  });
});
