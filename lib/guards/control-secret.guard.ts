import { Inject, Injectable } from '@nestjs/common';
import { CLUSTER_CONFIG, FAILED_AUTH_LIMITER, REQUEST_VERIFIER } from '../clustershazbot.constants.js';
import type { FailedAuthLimiter } from '../security/failed-auth-limiter.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import type { RequestVerifier } from '../security/request-signature.js';
import { SignedRequestGuard } from './signed-request.guard.js';

/** Control: signed with a SHAZBOT_CONTROL_SECRET secret only; the gossip secret is not enough. */
@Injectable()
export class ControlSecretGuard extends SignedRequestGuard {
  constructor(
    @Inject(CLUSTER_CONFIG) config: ClusterConfig,
    @Inject(REQUEST_VERIFIER) verifier: RequestVerifier,
    @Inject(FAILED_AUTH_LIMITER) limiter: FailedAuthLimiter,
  ) {
    super(config, verifier, limiter);
  }

  protected acceptedSecrets(): readonly string[] {
    return this.config.controlSecrets;
  }
}
