import { BadRequestException, ForbiddenException, HttpException, HttpStatus, PayloadTooLargeException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { messages } from '../clustershazbot.messages.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { FailedAuthLimiter } from '../security/failed-auth-limiter.js';
import type { RequestVerifier } from '../security/request-signature.js';
import { MAX_JSON_DEPTH } from '../security/canonical-json.js';
import { verifySignedRequest } from './signed-request.js';

interface GuardedRequest {
  headers: Record<string, unknown>;
  method: string;
  ip?: string;
  body?: unknown;
  /** Kept by Nest when the app is created with `rawBody: true` (Express and Fastify alike). */
  rawBody?: unknown;
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

/**
 * Checks a signed request (see `security/request-signature.ts`) against the secrets a
 * subclass names. 401 never says what was wrong; 403 only for a valid signature made for
 * another cluster; 429 for a client with too many failures in the last minute; 413 for a
 * body over the module's limit.
 */
export abstract class SignedRequestGuard implements CanActivate {
  protected abstract acceptedSecrets(): readonly string[];

  constructor(
    protected readonly config: ClusterConfig,
    private readonly verifier: RequestVerifier,
    private readonly limiter: FailedAuthLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    // the client's address is read only when a failure has been recorded (a getter, per request)
    if (this.limiter.anyFailures && this.limiter.isBlocked(request.ip ?? 'unknown')) throw new HttpException(messages.tooManyFailures(), HttpStatus.TOO_MANY_REQUESTS);
    if (Number(request.headers['content-length'] ?? 0) > this.config.maxBodyBytes) throw new PayloadTooLargeException(messages.bodyTooLarge(this.config.maxBodyBytes));
    const endpoint = endpointOf(context.getHandler());
    const result = verifySignedRequest(this.verifier, this.config, this.acceptedSecrets(), request.headers.authorization, request.method, endpoint, request.body, request.rawBody instanceof Uint8Array ? request.rawBody : undefined);
    if (result === 'ok') return true;
    if (result === 'too-deep') throw new BadRequestException(messages.tooDeep(MAX_JSON_DEPTH));
    this.limiter.recordFailure(request.ip ?? 'unknown');
    if (result === 'wrong-cluster') throw new ForbiddenException(messages.wrongCluster());
    throw new UnauthorizedException(messages.unauthorized());
  }
}
