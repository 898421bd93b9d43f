import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { DEFAULT_ROUTE_PREFIX } from '../clustershazbot.constants.js';
import { ClustershazbotRequestError } from '../clustershazbot.errors.js';
import { messages } from '../clustershazbot.messages.js';
import type { ControlMessage, GossipMessage, ProbeMessage, SyncMessage } from '../core/types.js';
import {
  shazbotControlRequest,
  shazbotGossipRequest,
  shazbotListRequest,
  shazbotProbeRequest,
  shazbotStateRequest,
  shazbotSyncRequest,
  standaloneRouting,
  type ShazbotRequestOptions,
} from './shazbot.js';
import { canonicalJson } from '../core/canonical-json.js';

/** Options of {@link clustershazbotRouter}. */
export interface ClustershazbotRouterOptions {
  /**
   * Path prefix this router answers on, without slashes. Leave it unset: it then follows the
   * running module's `routePrefix`, which is also the path peers call and sign. Set it only when
   * a proxy in front of the app rewrites the path (peers call `/clustershazbot/gossip`, the app
   * receives `/internal/gossip`): signatures are still checked against the module's prefix.
   * @default the module's routePrefix ('clustershazbot')
   */
  routePrefix?: string;
  /**
   * Largest request body in bytes, checked against Content-Length before reading and while
   * reading the stream when no body parser ran; above it the answer is 413. A body parser that
   * ran first applies its own limit (express.json's default is 100 kB: raise it for clusters
   * above about 1,000 servers).
   * @default the module's maxBodyBytes (4194304)
   */
  maxBodyBytes?: number;
  /**
   * The client address used for the failed-authentication limit (429) and the control audit
   * line. The default reads Express's `req.ip` (which honours its `trust proxy` setting), else
   * the socket's remote address.
   */
  clientAddress?: (req: IncomingMessage) => string | undefined;
}

/** A connect-style middleware: Express 4 and 5, connect, and anything that calls `(req, res, next)`. */
export type ClustershazbotMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** `reply`: the client's address and where the functions put the answer's signature (ShazbotRequestOptions). */
type Handler = (authorization: string, body: unknown, reply: ShazbotRequestOptions) => Promise<unknown>;

/** Every endpoint of the cluster module, by method and name (as the Nest controller routes them). */
const ENDPOINTS: Record<string, Handler> = {
  'POST gossip': (auth, body, reply) => shazbotGossipRequest(auth, body as GossipMessage, reply),
  'POST probe': (auth, body, reply) => shazbotProbeRequest(auth, body as ProbeMessage, reply),
  'POST sync': (auth, body, reply) => shazbotSyncRequest(auth, body as SyncMessage, reply),
  'GET list': (auth, _body, reply) => shazbotListRequest(auth, reply),
  'GET state': (auth, _body, reply) => shazbotStateRequest(auth, reply),
  'POST control': async (auth, body, reply) => {
    await shazbotControlRequest(auth, body as ControlMessage, reply);
    return { success: true };
  },
};

/** A request body refused before validation, with the status to answer. */
class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One middleware that serves every endpoint of the plain-function API (gossip, probe, sync, list,
 * state, control) under the route prefix, with the same statuses as the Nest controller:
 * 200 with the JSON answer; 400 invalid body or JSON (field messages in `message`); 401 bad
 * credentials; 403 signed for another cluster; 413 body above `maxBodyBytes`; 429 too many
 * failed authentications from this client; 503 before `shazbotStart()`. Error bodies have Nest's
 * shape, `{ statusCode, message, error }`. Anything else (another path, another method) goes to
 * `next()`, so the app's own 404 applies; an unexpected error goes to `next(error)`.
 *
 * It is built on the exported `shazbot*Request` functions, so authentication, validation and
 * the failed-authentication limit are theirs. It imports nothing from Express: it reads
 * `req.body` when a JSON body parser ran before it, and otherwise reads the stream itself, up to
 * `maxBodyBytes`.
 *
 * @example
 * const app = express();
 * app.use(clustershazbotRouter());
 * await shazbotStart();
 * app.listen(3000);
 * @publicApi
 */
export function clustershazbotRouter(options: ClustershazbotRouterOptions = {}): ClustershazbotMiddleware {
  const clientAddress = options.clientAddress ?? defaultClientAddress;
  const fixedPrefix = options.routePrefix === undefined ? undefined : trimSlashes(options.routePrefix);
  return (req, res, next) => {
    const routing = standaloneRouting();
    const prefix = fixedPrefix ?? routing?.routePrefix ?? DEFAULT_ROUTE_PREFIX;
    const endpoint = endpointOf(req.url ?? '/', prefix);
    const handler = endpoint === undefined ? undefined : ENDPOINTS[`${req.method} ${endpoint}`];
    if (!handler) return next();
    const limit = options.maxBodyBytes ?? routing?.maxBodyBytes ?? 4 * 1024 * 1024;
    void serve(req, res, handler, limit, clientAddress(req)).catch(next);
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: Handler, limit: number, client: string | undefined): Promise<void> {
  try {
    const body = req.method === 'GET' ? undefined : await readJsonBody(req, limit);
    // the functions sign the answer (Shazbot-Signature) through setHeader: peers use nothing unsigned
    const include = /[?&]include=all(&|$)/.test(req.url ?? '') ? 'all' : undefined; // GET state?include=all
    const answer = await handler(headerValue(req.headers.authorization), body, { client, include, setHeader: (name, value) => res.setHeader(name, value) });
    send(res, 200, answer, true);
  } catch (error) {
    if (error instanceof ClustershazbotRequestError) {
      send(res, error.status, errorBody(error.status, error.details.length ? error.details : error.message));
    } else if (error instanceof BodyError) {
      if (error.status === 413) res.setHeader('connection', 'close'); // the rest of the body is not read
      send(res, error.status, errorBody(error.status, error.message));
    } else {
      throw error;
    }
  }
}

/** The endpoint name when `url` is `/<prefix>/<name>` (query ignored, one trailing slash allowed, case-insensitive as Express routes). */
function endpointOf(url: string, prefix: string): string | undefined {
  const path = url.split('?', 1)[0].toLowerCase().replace(/(.)\/$/, '$1');
  const base = prefix ? `/${prefix.toLowerCase()}/` : '/';
  if (!path.startsWith(base)) return undefined;
  const name = path.slice(base.length);
  return name.includes('/') ? undefined : name;
}

/** The body a parser left in `req.body`, or the stream read and parsed here within `limit` bytes. */
async function readJsonBody(req: IncomingMessage & { body?: unknown; _body?: boolean }, limit: number): Promise<unknown> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limit) throw new BodyError(413, messages.bodyTooLarge(limit));
  // body-parser sets `_body` once it parsed; Express 4 also leaves `{}` in req.body when it skipped the stream
  const parsed = req.body !== undefined && (req._body === true || req.readableEnded);
  if (parsed) return typeof req.body === 'string' || Buffer.isBuffer(req.body) ? parseJson(req.body.toString()) : req.body;
  if (req.readableEnded) return undefined;
  const encoding = headerValue(req.headers['content-encoding']).toLowerCase();
  if (encoding && encoding !== 'identity') throw new BodyError(415, `Content-Encoding ${encoding} is not supported`);
  const bytes = await readStream(req, limit);
  return bytes.length === 0 ? undefined : parseJson(bytes.toString('utf8'));
}

/**
 * The request's bytes, up to `limit`. Events rather than `for await`: leaving an async iterator
 * early destroys the request, and with it the socket the 413 must be written to.
 */
function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) done(new BodyError(413, messages.bodyTooLarge(limit)));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onClose = () => done(new BodyError(400, 'Request body ended early'));
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError(400, 'Request body is not valid JSON');
  }
}

/** `canonical`: the answer as the canonical JSON its signature covers (the receiver's cheapest check). */
function send(res: ServerResponse, status: number, payload: unknown, canonical = false): void {
  const text = canonical ? canonicalJson(payload) : JSON.stringify(payload);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** Nest's default error shape, so Express and Nest servers of one cluster answer alike. */
function errorBody(status: number, message: string | string[]): { statusCode: number; message: string | string[]; error: string } {
  return { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' };
}

function defaultClientAddress(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { ip?: string }).ip ?? req.socket?.remoteAddress;
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

function trimSlashes(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}
