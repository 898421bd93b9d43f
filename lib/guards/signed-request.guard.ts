import { ForbiddenException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { messages } from '../clustershazbot.messages.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { RequestVerifier } from '../security/request-signature.js';
import { verifySignedRequest } from './signed-request.js';

/**
 * Checks a signed request (see `security/request-signature.ts`) against the secrets a
 * subclass names. 401 never says what was wrong; 403 only for a valid signature made for
 * another cluster.
 */
export abstract class SignedRequestGuard implements CanActivate {
  protected abstract acceptedSecrets(): readonly string[];

  constructor(
    protected readonly config: ClusterConfig,
    private readonly verifier: RequestVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown>; method: string; url: string; body?: unknown }>();
    const endpoint = new URL(request.url, 'http://x').pathname.split('/').filter(Boolean).pop() ?? '';
    const result = verifySignedRequest(this.verifier, this.config, this.acceptedSecrets(), request.headers.authorization, request.method, endpoint, request.body);
    if (result === 'wrong-cluster') throw new ForbiddenException(messages.wrongCluster());
    if (result !== 'ok') throw new UnauthorizedException(messages.unauthorized());
    return true;
  }
}
