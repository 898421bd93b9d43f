import { Inject, Injectable } from '@nestjs/common';
import { CLUSTER_CONFIG } from '../clustershazbot.constants.js';
import type { ClusterConfig } from '../clustershazbot.options.js';
import { BearerSecretGuard } from './bearer-secret.guard.js';

/** Gossip and list: `Authorization: Bearer <SHAZBOT_SECRET>` (any of the configured secrets). */
@Injectable()
export class SharedSecretGuard extends BearerSecretGuard {
  constructor(@Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig) {
    super();
  }

  protected acceptedSecrets(): readonly string[] {
    return this.config.secrets;
  }
}
