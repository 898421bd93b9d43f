import { HttpService } from '@nestjs/axios';
import { isAxiosError } from 'axios';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ADDRESS_GUARD, CLUSTER_CONFIG, CLUSTER_METRICS, MAX_FULL_LIST_BYTES } from './clustershazbot.constants.js';
import type { ClusterMetrics, SendOutcome } from './metrics/cluster-metrics.js';
import type { AddressGuard } from './security/address-guard.js';
import type { ClusterConfig } from './clustershazbot.options.js';
import { endpointUrl } from './core/base-url.js';
import type { GossipTransport } from './core/transport.js';
import type { GossipMessage, ProbeAck, ProbeMessage, ServerList, SyncMessage } from './core/types.js';
import { describeError } from './describe-error.js';
import { ProbeAckDto } from './dto/probe-message.dto.js';
import { ServerListDto } from './dto/server-list.dto.js';
import { SyncMessageDto } from './dto/sync-message.dto.js';
import { validateBody } from './dto/validate-body.js';
import { signedHeader } from './guards/signed-request.js';
import { canonicalJson } from './security/canonical-json.js';


/**
 * Gossip over HTTP through Nest's HttpService: POST our view to `<peer><prefix>/gossip`,
 * validate the reply like an incoming body. A hard deadline (AbortSignal) bounds a peer that
 * accepts the connection and never answers; redirects are never followed.
 */
@Injectable()
export class HttpGossipTransport implements GossipTransport, OnApplicationShutdown {
  /** Keep-alive agents whose DNS lookups go through the address guard. */
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(
    private readonly http: HttpService,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    @Inject(ADDRESS_GUARD) guard: AddressGuard,
    @Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics,
  ) {
    this.httpAgent = new HttpAgent({ keepAlive: true, lookup: guard.lookup as never });
    const { ca, cert, key } = config.tls;
    this.httpsAgent = new HttpsAgent({ keepAlive: true, lookup: guard.lookup as never, ca, cert, key, rejectUnauthorized: true });
  }

  /** After every module has shut down (the leave messages went out through these agents). */
  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async exchange(peerBaseUrl: string, message: GossipMessage): Promise<ServerList> {
    return this.post(peerBaseUrl, 'gossip', message, ServerListDto, this.config.requestTimeoutMs);
  }

  async probe(peerBaseUrl: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck> {
    return this.post(peerBaseUrl, 'probe', message, ProbeAckDto, timeoutMs);
  }

  async sync(peerBaseUrl: string, message: SyncMessage): Promise<SyncMessage> {
    return this.post(peerBaseUrl, 'sync', message, SyncMessageDto, this.config.requestTimeoutMs);
  }

  private async post<T extends object>(peerBaseUrl: string, endpoint: 'gossip' | 'probe' | 'sync', body: object, replyDto: new () => T, timeout: number): Promise<T> {
    const { secrets } = this.config;
    // the body goes out as its canonical JSON: the text the signature covers, written once, and
    // parsed by the receiver into keys already in order (its verification's fast path)
    const text = canonicalJson(body);
    const authorization = signedHeader(this.config, secrets[0], 'POST', endpoint, body, text);
    const started = this.metrics.enabled ? performance.now() : 0;
    let outcome: SendOutcome = 'error';
    let replyBytes = 0;
    let value: T | undefined;
    try {
      value = await this.send(peerBaseUrl, endpoint, text, authorization, replyDto, timeout, (bytes) => (replyBytes = bytes));
      outcome = 'ok';
      return value;
    } catch (error) {
      outcome = (error as { code?: string }).code === 'ECONNREFUSED' ? 'refused' : (error as { timedOut?: boolean }).timedOut ? 'timeout' : 'error';
      throw error;
    } finally {
      if (this.metrics.enabled) {
        const probe = endpoint === 'probe' ? { indirect: (body as ProbeMessage).target !== undefined, ack: (value as ProbeAck | undefined)?.ack, refused: (value as ProbeAck | undefined)?.refused } : undefined;
        this.metrics.sent(endpoint, Buffer.byteLength(text), replyBytes, (performance.now() - started) / 1000, outcome, probe);
      }
    }
  }

  /** One signed POST of an already-serialised body; the reply validated like an incoming body. */
  private async send<T extends object>(peerBaseUrl: string, endpoint: 'gossip' | 'probe' | 'sync', text: string, authorization: string, replyDto: new () => T, timeout: number, onReply: (bytes: number) => void): Promise<T> {
    const { routePrefix } = this.config;
    let data: unknown;
    try {
      const response = await firstValueFrom(
        this.http.post(endpointUrl(peerBaseUrl, routePrefix, endpoint), text, {
          headers: { authorization, 'content-type': 'application/json' },
          transformRequest: [(data: string) => data], // already JSON: axios would parse it again to check
          timeout,
          signal: AbortSignal.timeout(timeout),
          maxRedirects: 0,
          httpAgent: this.httpAgent,
          httpsAgent: this.httpsAgent,
          // a probe or sync reply is one message (at most the message budget; we accept what we would
          // accept as a request); a full list, a whole view
          maxContentLength: endpoint === 'gossip' ? MAX_FULL_LIST_BYTES : this.config.maxBodyBytes,
          responseType: 'json',
          validateStatus: (status) => status === 200,
        }),
      );
      data = response.data;
      onReply(Number(response.headers['content-length']) || 0);
    } catch (error) {
      // the status lets the engine recognise a page-format peer (404: no such endpoint), and
      // ECONNREFUSED a port nobody listens on (the failure detector's strong evidence)
      const status = isAxiosError(error) ? error.response?.status : undefined;
      const code = isAxiosError(error) && error.code === 'ECONNREFUSED' ? error.code : undefined;
      const description = describeError(error);
      throw Object.assign(new Error(description), status === undefined ? {} : { status }, code === undefined ? {} : { code }, description === 'timed out' ? { timedOut: true } : {});
    }
    const { value, errors } = await validateBody(replyDto, data, false);
    if (!value) throw new Error(`invalid reply (${errors.slice(0, 3).join('; ')})`);
    return value;
  }
}
