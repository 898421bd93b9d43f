import { Inject, Injectable } from '@nestjs/common';
import { CLUSTER_CONFIG } from '../clustershazbot.constants.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import { BearerSecretGuard } from './bearer-secret.guard.js';

/** Control: only `Authorization: Bearer <SHAZBOT_CONTROL_SECRET>`; the gossip secret is not enough. */
@Injectable()
export class ControlSecretGuard extends BearerSecretGuard {
  constructor(@Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig) {
    super();
  }

  protected acceptedSecrets(): readonly string[] {
    return this.config.controlSecrets;
  }
}
