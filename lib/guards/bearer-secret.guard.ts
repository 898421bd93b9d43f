import { UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { messages } from '../clustershazbot.messages.js';
import { bearerMatches } from './bearer-secret.js';

/** Checks `Authorization: Bearer <secret>` against the secrets a subclass names. A 401 never says what was wrong. */
export abstract class BearerSecretGuard implements CanActivate {
  protected abstract acceptedSecrets(): readonly string[];

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    if (!bearerMatches(request.headers.authorization, this.acceptedSecrets())) throw new UnauthorizedException(messages.unauthorized());
    return true;
  }
}
