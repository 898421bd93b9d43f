import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { randomBytes } from 'node:crypto';
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
import { escapeForLog } from './core/log-text.js';
import { PeerClocks } from './security/peer-clocks.js';
import { REPLY_SIGNATURE_HEADER, verifyReply } from './security/reply-signature.js';


/**
 * Codes on the errors the transport rejects with (beside the network's own, e.g. ECONNREFUSED):
 * - `EREPLYAUTH`: a reply came, but without a valid Shazbot-Signature for the request sent
 *   (a process squatting the peer's port, an unrelated web server, a forger on the path). It
 *   is one failed exchange; nothing in it is used.
 * - `EADDRREFUSED`: the address guard refuses the peer's URL; it was not contacted, and the
 *   call fails only once its deadline has passed, as for a peer that does not answer.
 */
export const REPLY_NOT_AUTHENTICATED = 'EREPLYAUTH';
export const ADDRESS_REFUSED = 'EADDRREFUSED';

/**
 * A failed call. `replyStatus` and `authenticated` are set when a reply came. `status` is set
 * when the engine may act on the status: it is left out for a 403 that is not signed (a
 * forged "another cluster" would get a live peer dropped). A 404 is never signed (it comes
 * from the host's router, not from this library) and keeps its `status` for the page-format
 * fallback, with `authenticated: false`: it proves nothing about who answered.
 */
export interface TransportError extends Error {
  code?: string;
  /** No reply before the deadline. */
  timedOut?: boolean;
  status?: number;
  replyStatus?: number;
  authenticated?: boolean;
}

function failure(message: string, fields: Omit<TransportError, 'name' | 'message'>): TransportError {
  const error = new Error(message) as TransportError;
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) (error as unknown as Record<string, unknown>)[key] = value;
  return error;
}

type Attempt = { kind: 'reply'; value: unknown } | { kind: 'clock' };

/**
 * Gossip over HTTP through Nest's HttpService: POST to `<peer><prefix>/<endpoint>`, signed for
 * that peer and stamped on its clock as far as we know it; merge nothing but replies signed for
 * the request sent (see `security/reply-signature.ts`), validated like incoming bodies.
 *
 * - Every URL passes the address guard here, whatever asked for it (an indirect probe's
 *   target, a gossip entry, a seed), literal IP addresses included; names are checked again on
 *   the address they resolve to when connecting.
 * - A hard deadline (AbortSignal) bounds a peer that accepts the connection and never
 *   answers; redirects are never followed; replies are capped (a probe or sync reply at
 *   maxBodyBytes, a full list at what a full view takes).
 * - A 401 signed by the peer means it started after our request's stamp (by its clock): the
 *   request is sent once more, stamped on the clock the reply gave.
 */
@Injectable()
export class HttpGossipTransport implements GossipTransport, OnApplicationShutdown {
  /** Keep-alive agents whose DNS lookups go through the address guard. */
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly clocks = new PeerClocks();

  constructor(
    private readonly http: HttpService,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    @Inject(ADDRESS_GUARD) private readonly guard: AddressGuard,
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

  /** @param timeoutMs deadline of the call (a liveness check through gossip may pass the probe timeout). @default the request timeout */
  async exchange(peerBaseUrl: string, message: GossipMessage, timeoutMs = this.config.requestTimeoutMs): Promise<ServerList> {
    return this.post(peerBaseUrl, 'gossip', message, ServerListDto, timeoutMs);
  }

  async probe(peerBaseUrl: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck> {
    return this.post(peerBaseUrl, 'probe', message, ProbeAckDto, timeoutMs);
  }

  async sync(peerBaseUrl: string, message: SyncMessage): Promise<SyncMessage> {
    return this.post(peerBaseUrl, 'sync', message, SyncMessageDto, this.config.requestTimeoutMs);
  }

  /** One call, counted in the metrics (messages, bytes, duration, outcome). */
  private async post<T extends object>(peer: string, endpoint: 'gossip' | 'probe' | 'sync', body: object, replyDto: new () => T, timeout: number): Promise<T> {
    const started = this.metrics.enabled ? performance.now() : 0;
    const sizes = { sent: 0, received: 0 };
    let outcome: SendOutcome = 'error';
    let value: T | undefined;
    try {
      value = await this.call(peer, endpoint, body, replyDto, timeout, sizes);
      outcome = 'ok';
      return value;
    } catch (error) {
      outcome = (error as TransportError).code === 'ECONNREFUSED' ? 'refused' : (error as TransportError).timedOut ? 'timeout' : 'error';
      throw error;
    } finally {
      if (this.metrics.enabled) {
        const probe = endpoint === 'probe' ? { indirect: (body as ProbeMessage).target !== undefined, ack: (value as ProbeAck | undefined)?.ack, refused: (value as ProbeAck | undefined)?.refused } : undefined;
        this.metrics.sent(endpoint, sizes.sent, sizes.received, (performance.now() - started) / 1000, outcome, probe);
      }
    }
  }

  private async call<T extends object>(peer: string, endpoint: 'gossip' | 'probe' | 'sync', body: object, replyDto: new () => T, timeout: number, sizes: { sent: number; received: number }): Promise<T> {
    const deadline = Date.now() + timeout;
    if (!this.guard.acceptsUrl(peer)) {
      // as a peer that never answers: no connection, and no quicker answer to tell it apart
      await new Promise((resolve) => setTimeout(resolve, timeout).unref());
      throw failure('address refused by the address guard (not contacted)', { code: ADDRESS_REFUSED });
    }
    // the body goes out as its canonical JSON: the text the signature covers, written once, and
    // parsed by the receiver into keys already in order (its verification's fast path)
    const text = canonicalJson(body);
    sizes.sent = Buffer.byteLength(text);
    let attempt = await this.send(peer, endpoint, body, text, deadline, sizes);
    if (attempt.kind === 'clock') attempt = await this.send(peer, endpoint, body, text, deadline, sizes);
    if (attempt.kind === 'clock') throw failure(`HTTP 401 (stamped before ${peer} started, twice)`, { status: 401, replyStatus: 401, authenticated: true });
    const { value, errors } = await validateBody(replyDto, attempt.value, false);
    if (!value) throw new Error(`invalid reply (${escapeForLog(errors.slice(0, 3).join('; '))})`);
    return value;
  }

  /** One signed request; the parsed reply when it is signed for it, 'clock' when it should be sent again. */
  private async send(peer: string, endpoint: string, body: object, text: string, deadline: number, sizes: { received: number }): Promise<Attempt> {
    const { routePrefix, secrets, cluster } = this.config;
    const remaining = Math.max(1, deadline - Date.now());
    const sentAt = Date.now();
    const nonce = randomBytes(16).toString('base64url');
    const authorization = signedHeader(this.config, secrets[0], 'POST', endpoint, peer, body, text, sentAt + this.clocks.offset(peer), nonce);
    let response: AxiosResponse<ArrayBuffer>;
    try {
      response = await firstValueFrom(
        this.http.post<ArrayBuffer>(endpointUrl(peer, routePrefix, endpoint), text, {
          headers: { authorization, 'content-type': 'application/json' },
          transformRequest: [(data: string) => data], // already JSON: axios would parse it again to check
          transformResponse: [(data: ArrayBuffer) => data], // the bytes as received: their hash is checked first
          responseType: 'arraybuffer',
          timeout: remaining,
          signal: AbortSignal.timeout(remaining),
          maxRedirects: 0,
          httpAgent: this.httpAgent,
          httpsAgent: this.httpsAgent,
          // a probe or sync reply is one message (at most the message budget; we accept what we would
          // accept as a request); a full list, a whole view
          maxContentLength: endpoint === 'gossip' ? MAX_FULL_LIST_BYTES : this.config.maxBodyBytes,
          validateStatus: () => true, // every status is read here: the signature decides what it is worth
        }),
      );
    } catch (error) {
      // no reply at all; ECONNREFUSED (nothing listens on the port) is the failure detector's strong evidence
      const code = (error as { code?: unknown }).code === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined;
      const description = describeError(error);
      throw failure(description, { code, timedOut: description === 'timed out' || undefined });
    }
    const receivedAt = Date.now();
    const status = response.status;
    const raw = Buffer.from(response.data ?? new ArrayBuffer(0));
    sizes.received = raw.length;
    let parsed: unknown;
    if (status === 200) {
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    const proof = verifyReply(response.headers[REPLY_SIGNATURE_HEADER], secrets, { nonce, status, rawBody: raw, body: parsed });
    // a 403 may name the other cluster; anything else must come from ours
    const authenticated = proof.ok && (status === 403 || proof.cluster === cluster);
    if (authenticated) this.clocks.observe(peer, proof.ts, sentAt, receivedAt);
    if (status === 200) {
      if (!authenticated) throw failure(`HTTP 200 without a valid reply signature (${REPLY_NOT_AUTHENTICATED})`, { code: REPLY_NOT_AUTHENTICATED, replyStatus: 200, authenticated: false });
      if (parsed === undefined) throw failure('invalid reply (not JSON)', { replyStatus: 200, authenticated: true });
      return { kind: 'reply', value: parsed };
    }
    if (status === 401 && authenticated) return { kind: 'clock' };
    if (authenticated) throw failure(`HTTP ${status}`, { status, replyStatus: status, authenticated: true });
    if (status === 403) throw failure(`HTTP 403 without a valid reply signature (${REPLY_NOT_AUTHENTICATED})`, { code: REPLY_NOT_AUTHENTICATED, replyStatus: 403, authenticated: false });
    if (status === 404) throw failure(`HTTP 404 (not authenticated)`, { code: REPLY_NOT_AUTHENTICATED, status: 404, replyStatus: 404, authenticated: false });
    throw failure(`HTTP ${status}`, { status, replyStatus: status, authenticated: false });
  }
}
