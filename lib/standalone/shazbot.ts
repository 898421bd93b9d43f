import { Logger, type INestApplicationContext, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClusterService, type ClusterHealthExtension, type StateSelection } from '../cluster.service.js';
import { CLUSTER_CONFIG, CLUSTER_METRICS, FAILED_AUTH_LIMITER, REQUEST_VERIFIER } from '../clustershazbot.constants.js';
import type { ClusterMetrics, MessageType } from '../metrics/cluster-metrics.js';
import type { FailedAuthLimiter } from '../security/failed-auth-limiter.js';
import { ClustershazbotRequestError } from '../clustershazbot.errors.js';
import { messages } from '../clustershazbot.messages.js';
import { ClustershazbotModule } from '../clustershazbot.module.js';
import type { ClusterConfig, ClustershazbotOptions } from '../clustershazbot.options.js';
import type { JsonValue } from '../core/replicated-state.js';
import type { SingletonRun } from '../core/singleton-coordinator.js';
import type { RunSingletonOptions, SingletonOutcome } from '../coordination/coordination.types.js';
import type { ControlMessage, GossipMessage, ProbeAck, ProbeMessage, ServerList, SyncMessage } from '../core/types.js';
import { ControlMessageDto } from '../dto/control-message.dto.js';
import { GossipMessageDto } from '../dto/gossip-message.dto.js';
import { ProbeMessageDto } from '../dto/probe-message.dto.js';
import { SyncMessageDto } from '../dto/sync-message.dto.js';
import { validateBody } from '../dto/validate-body.js';
import { checkSignedRequest, replySignatureHeader, type ReplyKey } from '../guards/signed-request.js';
import { canonicalJson } from '../security/canonical-json.js';
import { REPLY_SIGNATURE_HEADER } from '../security/reply-signature.js';
import type { RequestVerifier } from '../security/request-signature.js';

/**
 * The page's plain-function API for Express (or any framework). It runs the very same module
 * as Nest apps, in a Nest application context without an HTTP server: the host routes the
 * endpoints to these functions.
 */
let context: INestApplicationContext | undefined;
let starting: Promise<void> | undefined;
let warnedUnsignedReplies = false;

function started(): { cluster: ClusterService; config: ClusterConfig; verifier: RequestVerifier; limiter: FailedAuthLimiter } {
  if (!context) throw new ClustershazbotRequestError(503, messages.notStarted());
  return {
    cluster: context.get(ClusterService),
    config: context.get<ClusterConfig>(CLUSTER_CONFIG),
    verifier: context.get<RequestVerifier>(REQUEST_VERIFIER),
    limiter: context.get<FailedAuthLimiter>(FAILED_AUTH_LIMITER),
  };
}

/**
/**
 * The running module's route prefix and body limit, or undefined before shazbotStart: what
 * clustershazbotRouter() serves on and accepts. Not exported from the package.
 */
export function standaloneRouting(): Pick<ClusterConfig, 'routePrefix' | 'maxBodyBytes'> | undefined {
  if (!context) return undefined;
  const { routePrefix, maxBodyBytes } = context.get<ClusterConfig>(CLUSTER_CONFIG);
  return { routePrefix, maxBodyBytes };
}

/**
 * The last argument of the request functions: the client's address, or these options.
 *
 *     res.json(await shazbotGossipRequest(req.headers.authorization ?? '', req.body, { client: req.ip, setHeader: (n, v) => res.setHeader(n, v) }));
 */
export interface ShazbotRequestOptions {
  /**
   * The client's address (`req.ip`): enables the failed-authentication limit (429), and names
   * the sender in the control audit line.
   */
  client?: string;
  /**
   * Sets a header on the response about to be sent (`(name, value) => res.setHeader(name, value)`).
   * The functions set `Shazbot-Signature` (the proof peers require before they use a reply;
   * without it every peer takes this server's answers for failed exchanges) and, on some
   * refusals, `Retry-After`. Called before the function returns or throws.
   */
  setHeader?: (name: string, value: string) => void;
  /** `shazbotStateRequest` only: `'all'` adds offline servers' keys (the `?include=all` of the endpoint). */
  include?: 'live' | 'all';
}

function optionsOf(last: string | ShazbotRequestOptions | undefined): ShazbotRequestOptions {
  return typeof last === 'string' ? { client: last } : (last ?? {});
}

/**
 * Same checks as the Nest guards, by the same function (checkSignedRequest): 413, 400 for deep
 * JSON, 401 without a hint, 403 for a valid signature of another cluster, 429 for the failures
 * of a client with too many (when the caller passes its address), 503 while the nonce cache is full.
 */
function authenticate(auth: string, secrets: readonly string[], method: string, endpoint: string, body: unknown, options: ShazbotRequestOptions): ReplyKey {
  const { config, verifier, limiter } = started();
  const check = checkSignedRequest({ config, verifier, limiter }, secrets, { authorization: auth, method, endpoint, body, client: options.client });
  if (check.ok) return check.reply;
  if (check.reply) options.setHeader?.(REPLY_SIGNATURE_HEADER, replySignatureHeader(check.reply, check.status));
  if (check.retryAfterSeconds !== undefined) options.setHeader?.('retry-after', String(check.retryAfterSeconds));
  throw new ClustershazbotRequestError(check.status, check.message);
}

/** Signs the answer through `setHeader`; without it, says once in the log what peers will do. */
function signed<T>(key: ReplyKey, body: T, options: ShazbotRequestOptions): T {
  if (options.setHeader) options.setHeader(REPLY_SIGNATURE_HEADER, replySignatureHeader(key, 200, canonicalJson(body)));
  else if (!warnedUnsignedReplies) {
    warnedUnsignedReplies = true;
    new Logger('Clustershazbot').warn(messages.unsignedReplies());
  }
  return body;
}

/** Counts a plain-function request in the metrics, like the Nest endpoints' middleware (bodies are the host's: no bytes). */
async function counted<T>(type: MessageType, handle: () => Promise<T>): Promise<T> {
  const metrics = context?.get<ClusterMetrics>(CLUSTER_METRICS);
  try {
    const result = await handle();
    metrics?.received(type, 200, 0, 0);
    return result;
  } catch (error) {
    if (error instanceof ClustershazbotRequestError) metrics?.received(type, error.status, 0, 0);
    throw error;
  }
}

async function validated<T extends object>(dto: new () => T, body: unknown): Promise<T> {
  const { value, errors } = await validateBody(dto, body);
  if (!value) throw new ClustershazbotRequestError(400, `invalid body: ${errors.join('; ')}`, errors);
  return value;
}

/**
 * Starts the engine: reads the `SHAZBOT_*` variables (or `options`), downloads the master list
 * and starts gossiping. Rejects with a ClustershazbotConfigError when configuration is wrong.
 */
export async function shazbotStart(options: ClustershazbotOptions = {}, logLevels: LogLevel[] = ['log', 'warn', 'error']): Promise<void> {
  if (context) return;
  starting ??= (async () => {
    try {
      context = await NestFactory.createApplicationContext(ClustershazbotModule.forRoot(options), { logger: logLevels, abortOnError: false });
    } finally {
      starting = undefined;
    }
  })();
  await starting;
}

/** Moves this server offline, tells peers, uploads the master list when configured, stops every timer. */
export async function shazbotShutDown(): Promise<void> {
  const app = context;
  context = undefined;
  await app?.close();
}

/**
 * Handles `POST /clustershazbot/gossip`: returns this server's view. Throws
 * ClustershazbotRequestError (400, 401, 403, 413, 429, 503). The last argument is the client's
 * address (`req.ip`, the form before replies were signed) or ShazbotRequestOptions; pass
 * `setHeader` so that peers accept the answer.
 */
export async function shazbotGossipRequest(auth: string, body: GossipMessage, client?: string | ShazbotRequestOptions): Promise<ServerList> {
  return counted('gossip', async () => {
    const { cluster, config } = started();
    const options = optionsOf(client);
    const key = authenticate(auth, config.secrets, 'POST', 'gossip', body, options);
    return signed(key, cluster.receiveGossip(await validated(GossipMessageDto, body)), options);
  });
}

/** Handles `POST /clustershazbot/probe` (failure detection). Arguments and errors as shazbotGossipRequest. */
export async function shazbotProbeRequest(auth: string, body: ProbeMessage, client?: string | ShazbotRequestOptions): Promise<ProbeAck> {
  return counted('probe', async () => {
    const { cluster, config } = started();
    const options = optionsOf(client);
    const key = authenticate(auth, config.secrets, 'POST', 'probe', body, options);
    return signed(key, await cluster.receiveProbe(await validated(ProbeMessageDto, body)), options);
  });
}

/** Handles `POST /clustershazbot/sync` (digest-and-delta anti-entropy, key/value state). Arguments and errors as shazbotGossipRequest. */
export async function shazbotSyncRequest(auth: string, body: SyncMessage, client?: string | ShazbotRequestOptions): Promise<SyncMessage> {
  return counted('sync', async () => {
    const { cluster, config } = started();
    const options = optionsOf(client);
    const key = authenticate(auth, config.secrets, 'POST', 'sync', body, options);
    return signed(key, cluster.receiveSync(await validated(SyncMessageDto, body)), options);
  });
}

/** Handles `GET /clustershazbot/state`: every server's keys. Arguments and errors as shazbotGossipRequest. */
export async function shazbotStateRequest(auth: string, client?: string | ShazbotRequestOptions): Promise<Record<string, Record<string, JsonValue>>> {
  return counted('state', async () => {
    const { cluster, config } = started();
    const options = optionsOf(client);
    const key = authenticate(auth, config.secrets, 'GET', 'state', undefined, options);
    return signed(key, cluster.state({ include: options.include }), options);
  });
}

/** Handles `GET /clustershazbot/list`. Arguments and errors as shazbotGossipRequest. */
export async function shazbotListRequest(auth: string, client?: string | ShazbotRequestOptions): Promise<ServerList> {
  return counted('list', async () => {
    const { cluster, config } = started();
    const options = optionsOf(client);
    const key = authenticate(auth, config.secrets, 'GET', 'list', undefined, options);
    return signed(key, cluster.view(), options);
  });
}

/**
 * Handles `POST /clustershazbot/control` with the control secret; answer `{ success: true }`
 * (the body `setHeader`'s signature covers). The last argument is the client's address (used
 * in the audit log line and for the failed-authentication limit) or ShazbotRequestOptions.
 */
export async function shazbotControlRequest(auth: string, body: ControlMessage, from?: string | ShazbotRequestOptions): Promise<void> {
  return counted('control', async () => {
    const { cluster, config } = started();
    const options = optionsOf(from);
    const key = authenticate(auth, config.controlSecrets, 'POST', 'control', body, options);
    cluster.control(await validated(ControlMessageDto, body), options.client ?? 'plain-function API');
    signed(key, { success: true }, options);
  });
}

/** The page's health extension: `{ status: 'ok', cluster }` or `{ status: 'error', error }`. Never throws. */
export function shazbotHealthExtension(): ClusterHealthExtension {
  if (!context) return { status: 'error', error: messages.notStarted() };
  return context.get(ClusterService).healthExtension();
}

/** The ClusterService behind the plain functions (view, events, status), once started. */
export function shazbotCluster(): ClusterService {
  return started().cluster;
}


/**
 * Sets a key of this server's state (see ClusterService.setLocalState). Throws StateValueError
 * for a bad key or value, and a 503 ClustershazbotRequestError before shazbotStart.
 */
export function shazbotSetState(key: string, value: JsonValue, expiresAt?: Date | number): void {
  started().cluster.setLocalState(key, value, expiresAt);
}

/** Deletes a key of this server's state everywhere. False when it was not set. */
export function shazbotDeleteState(key: string): boolean {
  return started().cluster.deleteLocalState(key);
}

/** A key of a server's state, or undefined. */
export function shazbotPeerValue(server: string, key: string): JsonValue | undefined {
  return started().cluster.peerValue(server, key);
}

/** Every live server's keys, by base URL; `{ include: 'all' }` adds offline ones (see ClusterService.state). */
export function shazbotState(options: StateSelection = {}): Record<string, Record<string, JsonValue>> {
  return started().cluster.state(options);
}

/**
 * The owner of `key` among the online and suspect members (see ClusterService.owner).
 * Throws a 503 ClustershazbotRequestError before shazbotStart, a TypeError for a non-string key.
 */
export function shazbotOwner(key: string): string | undefined {
  return started().cluster.owner(key);
}

/** The preference list of `key`: up to `n` base URLs, the owner first (see ClusterService.owners). */
export function shazbotOwners(key: string, n: number): string[] {
  return started().cluster.owners(key, n);
}

/** Whether this server owns `key` (see ClusterService.isOwner). */
export function shazbotIsOwner(key: string): boolean {
  return started().cluster.isOwner(key);
}

/**
 * Runs `fn` only on the owner of singleton `name`, with quorum (see ClusterService.runSingleton):
 * for an Express app's own timers, e.g. `setInterval(() => shazbotRunSingleton('report', job), 60_000)`.
 * Resolves with `{ ran: true, value, run }` or `{ ran: false, reason, detail }`.
 */
export async function shazbotRunSingleton<T>(name: string, fn: (run: SingletonRun) => T | Promise<T>, options?: RunSingletonOptions): Promise<SingletonOutcome<Awaited<T>>> {
  return started().cluster.runSingleton(name, fn, options);
}
