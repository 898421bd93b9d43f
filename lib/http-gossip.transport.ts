import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { CLUSTER_CONFIG } from './clustershazbot.constants.js';
import type { ClusterConfig } from './clustershazbot.options.js';
import { endpointUrl } from './core/base-url.js';
import type { GossipTransport } from './core/cluster-engine.js';
import type { GossipMessage, ProbeAck, ProbeMessage, ServerList } from './core/types.js';
import { describeError } from './describe-error.js';
import { ProbeAckDto } from './dto/probe-message.dto.js';
import { ServerListDto } from './dto/server-list.dto.js';
import { validateBody } from './dto/validate-body.js';
import { signedHeader } from './guards/signed-request.js';

/** Replies larger than this are cut off (10,000 servers at ~100 bytes, with room). */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * Gossip over HTTP through Nest's HttpService: POST our view to `<peer><prefix>/gossip`,
 * validate the reply like an incoming body. A hard deadline (AbortSignal) bounds a peer that
 * accepts the connection and never answers; redirects are never followed.
 */
@Injectable()
export class HttpGossipTransport implements GossipTransport {
  constructor(
    private readonly http: HttpService,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
  ) {}

  async exchange(peerBaseUrl: string, message: GossipMessage): Promise<ServerList> {
    return this.post(peerBaseUrl, 'gossip', message, ServerListDto, this.config.requestTimeoutMs);
  }

  async probe(peerBaseUrl: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck> {
    return this.post(peerBaseUrl, 'probe', message, ProbeAckDto, timeoutMs);
  }

  private async post<T extends object>(peerBaseUrl: string, endpoint: 'gossip' | 'probe', body: object, replyDto: new () => T, timeout: number): Promise<T> {
    const { routePrefix, secrets } = this.config;
    const authorization = signedHeader(this.config, secrets[0], 'POST', endpoint, body);
    let data: unknown;
    try {
      const response = await firstValueFrom(
        this.http.post(endpointUrl(peerBaseUrl, routePrefix, endpoint), body, {
          headers: { authorization, 'content-type': 'application/json' },
          timeout,
          signal: AbortSignal.timeout(timeout),
          maxRedirects: 0,
          maxContentLength: MAX_REPLY_BYTES,
          responseType: 'json',
          validateStatus: (status) => status === 200,
        }),
      );
      data = response.data;
    } catch (error) {
      throw new Error(describeError(error));
    }
    const { value, errors } = await validateBody(replyDto, data, false);
    if (!value) throw new Error(`invalid reply (${errors.slice(0, 3).join('; ')})`);
    return value;
  }
}
