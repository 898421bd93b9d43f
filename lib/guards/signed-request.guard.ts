import { BadRequestException, ForbiddenException, HttpException, PayloadTooLargeException, ServiceUnavailableException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { FailedAuthLimiter } from '../security/failed-auth-limiter.js';
import { REPLY_SIGNATURE_HEADER } from '../security/reply-signature.js';
import type { RequestVerifier } from '../security/request-signature.js';
import { checkSignedRequest, replySignatureHeader, type RefusalStatus, type ReplyKey } from './signed-request.js';

interface GuardedRequest {
  headers: Record<string, unknown>;
  method: string;
  ip?: string;
  body?: unknown;
  /** Kept by Nest when the app is created with `rawBody: true` (Express and Fastify alike). */
  rawBody?: unknown;
}

/** Express's response and Fastify's reply both have `header(name, value)`. */
export interface HeaderTarget {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

export function setResponseHeader(response: HeaderTarget, name: string, value: string): void {
  if (typeof response.header === 'function') response.header(name, value);
  else response.setHeader?.(name, value);
}

const endpoints = new WeakMap<Function, string>();

/**
 * The endpoint a route declares (`gossip`, `list`, …), read once per handler. The signature
 * covers this logical path, so how the URL was spelt (a query, a trailing slash) neither breaks
 * nor bends it, and no URL is parsed per request.
 */
function endpointOf(handler: Function): string {
  let endpoint = endpoints.get(handler);
  if (endpoint === undefined) {
    const path = Reflect.getMetadata(PATH_METADATA, handler);
    endpoint = String(Array.isArray(path) ? path[0] : (path ?? '')).replace(/^\/+|\/+$/g, '');
    endpoints.set(handler, endpoint);
  }
  return endpoint;
}

/** The reply key of each request the guard let through, for SignedReplyInterceptor. */
const replyKeys = new WeakMap<object, ReplyKey>();

/** How to sign the reply to `request`, when a SignedRequestGuard accepted it. */
export function replyKeyOf(request: object): ReplyKey | undefined {
  return replyKeys.get(request);
}

const EXCEPTIONS: Record<RefusalStatus, new (message: string) => HttpException> = {
  400: BadRequestException,
  401: UnauthorizedException,
  403: ForbiddenException,
  413: PayloadTooLargeException,
  429: class TooManyRequestsException extends HttpException {
    constructor(message: string) {
      super({ statusCode: 429, message, error: 'Too Many Requests' }, 429);
    }
  },
  503: ServiceUnavailableException,
};

/**
 * Checks a signed request against the secrets a subclass names, with `checkSignedRequest` (the
 * same function the plain-function API calls): 401 never says what was wrong; 403 only for a
 * valid signature made for another cluster; 429 for the failures of a client with too many in
 * the last minute (never for a valid signature); 413 for a body over the module's limit; 503
 * while the nonce cache is full. Accepted requests get signed replies (SignedReplyInterceptor).
 */
export abstract class SignedRequestGuard implements CanActivate {
  protected abstract acceptedSecrets(): readonly string[];

  constructor(
    protected readonly config: ClusterConfig,
    private readonly verifier: RequestVerifier,
    private readonly limiter: FailedAuthLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    const check = checkSignedRequest({ config: this.config, verifier: this.verifier, limiter: this.limiter }, this.acceptedSecrets(), {
      authorization: request.headers.authorization,
      method: request.method,
      endpoint: endpointOf(context.getHandler()),
      body: request.body,
      rawBody: request.rawBody instanceof Uint8Array ? request.rawBody : undefined,
      contentLength: request.headers['content-length'],
      client: () => request.ip, // a getter on Express: read only when the request has failed
    });
    if (check.ok) {
      replyKeys.set(request, check.reply);
      return true;
    }
    const response = http.getResponse<HeaderTarget>();
    if (check.reply) setResponseHeader(response, REPLY_SIGNATURE_HEADER, replySignatureHeader(check.reply, check.status));
    if (check.retryAfterSeconds !== undefined) setResponseHeader(response, 'retry-after', String(check.retryAfterSeconds));
    throw new EXCEPTIONS[check.status](check.message);
  }
}
