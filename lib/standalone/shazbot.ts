import type { INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClusterService, type ClusterHealthExtension } from '../cluster.service.js';
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
import { verifySignedRequest } from '../guards/signed-request.js';
import { MAX_JSON_DEPTH } from '../security/canonical-json.js';
import type { RequestVerifier } from '../security/request-signature.js';

/**
 * The page's plain-function API for Express (or any framework). It runs the very same module
 * as Nest apps, in a Nest application context without an HTTP server: the host routes the
 * three endpoints to these functions.
 */
let context: INestApplicationContext | undefined;
let starting: Promise<void> | undefined;

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
 * The running module's route prefix and body limit, or undefined before shazbotStart: what
 * clustershazbotRouter() serves on and accepts. Not exported from the package.
 */
export function standaloneRouting(): Pick<ClusterConfig, 'routePrefix' | 'maxBodyBytes'> | undefined {
  if (!context) return undefined;
  const { routePrefix, maxBodyBytes } = context.get<ClusterConfig>(CLUSTER_CONFIG);
  return { routePrefix, maxBodyBytes };
}

/**
 * Same checks as the Nest guards: 429 for a client with too many recent failures (when the
 * caller passes its address), 401 without a hint, 403 for a valid signature of another cluster.
 */
function authenticate(auth: string, secrets: readonly string[], method: string, endpoint: string, body: unknown, client: string | undefined): void {
  const { config, verifier, limiter } = started();
  if (client && limiter.isBlocked(client)) throw new ClustershazbotRequestError(429, messages.tooManyFailures());
  const result = verifySignedRequest(verifier, config, secrets, auth, method, endpoint, body);
  if (result === 'ok') return;
  if (result === 'too-deep') throw new ClustershazbotRequestError(400, messages.tooDeep(MAX_JSON_DEPTH));
  limiter.recordFailure(client ?? 'unknown');
  if (result === 'wrong-cluster') throw new ClustershazbotRequestError(403, messages.wrongCluster());
  throw new ClustershazbotRequestError(401, messages.unauthorized());
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
 * Handles `POST /clustershazbot/gossip`: returns this server's view. Throws 400/401/403/429/503
 * errors. Pass the client's address (`req.ip`) to enable the failed-authentication limit.
 */
export async function shazbotGossipRequest(auth: string, body: GossipMessage, client?: string): Promise<ServerList> {
  return counted('gossip', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.secrets, 'POST', 'gossip', body, client);
    return cluster.receiveGossip(await validated(GossipMessageDto, body));
  });
}

/** Handles `POST /clustershazbot/probe` (failure detection). */
export async function shazbotProbeRequest(auth: string, body: ProbeMessage, client?: string): Promise<ProbeAck> {
  return counted('probe', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.secrets, 'POST', 'probe', body, client);
    return cluster.receiveProbe(await validated(ProbeMessageDto, body));
  });
}

/** Handles `POST /clustershazbot/sync` (digest-and-delta anti-entropy, key/value state). */
export async function shazbotSyncRequest(auth: string, body: SyncMessage, client?: string): Promise<SyncMessage> {
  return counted('sync', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.secrets, 'POST', 'sync', body, client);
    return cluster.receiveSync(await validated(SyncMessageDto, body));
  });
}

/** Handles `GET /clustershazbot/state`: every server's keys. */
export async function shazbotStateRequest(auth: string, client?: string): Promise<Record<string, Record<string, JsonValue>>> {
  return counted('state', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.secrets, 'GET', 'state', undefined, client);
    return cluster.state();
  });
}

/** Handles `GET /clustershazbot/list`. */
export async function shazbotListRequest(auth: string, client?: string): Promise<ServerList> {
  return counted('list', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.secrets, 'GET', 'list', undefined, client);
    return cluster.view();
  });
}

/** Handles `POST /clustershazbot/control` with the control secret. `from` is used in the audit log line. */
export async function shazbotControlRequest(auth: string, body: ControlMessage, from = 'plain-function API'): Promise<void> {
  return counted('control', async () => {
    const { cluster, config } = started();
    authenticate(auth, config.controlSecrets, 'POST', 'control', body, from === 'plain-function API' ? undefined : from);
    cluster.control(await validated(ControlMessageDto, body), from);
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

/** Every server's keys, by base URL. */
export function shazbotState(): Record<string, Record<string, JsonValue>> {
  return started().cluster.state();
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
