import { MAX_BASE_URL_LENGTH } from './core/base-url.js';
import { MAX_SERVERS } from './core/engine-settings.js';

/** Injection tokens. Hosts and tests use the exported services, not these, where they can. */
export const CLUSTER_CONFIG = Symbol('CLUSTERSHAZBOT_CLUSTER_CONFIG');
export const ROUTE_PREFIX = Symbol('CLUSTERSHAZBOT_ROUTE_PREFIX');
export const CLUSTER_ENGINE = Symbol('CLUSTERSHAZBOT_CLUSTER_ENGINE');
export const MASTER_LIST_STORE = Symbol('CLUSTERSHAZBOT_MASTER_LIST_STORE');
export const GOSSIP_TRANSPORT = Symbol('CLUSTERSHAZBOT_GOSSIP_TRANSPORT');
export const REQUEST_VERIFIER = Symbol('CLUSTERSHAZBOT_REQUEST_VERIFIER');
export const ADDRESS_GUARD = Symbol('CLUSTERSHAZBOT_ADDRESS_GUARD');
export const FAILED_AUTH_LIMITER = Symbol('CLUSTERSHAZBOT_FAILED_AUTH_LIMITER');
export const CLUSTER_METRICS = Symbol('CLUSTERSHAZBOT_CLUSTER_METRICS');
/** The cluster controller class made for this module's route prefix (metrics middleware targets it). */
export const CLUSTER_CONTROLLER = Symbol('CLUSTERSHAZBOT_CLUSTER_CONTROLLER');

/** The endpoints' route prefix when the module's `routePrefix` extra is not given: `/clustershazbot/gossip`, … */
export const DEFAULT_ROUTE_PREFIX = 'clustershazbot';

/** Bounds on what one message may carry; the DTOs enforce them. The view has the same bound (MAX_SERVERS). */
export const MAX_SERVERS_PER_LIST = MAX_SERVERS;
/** Most key/value deltas (servers) in one message, and most keys in one delta. */
export const MAX_STATE_DELTAS = 10_000;
export const MAX_KEYS_PER_DELTA = 10_000;

/**
 * Largest full list we read (a master list document, a page-format peer's /gossip reply):
 * MAX_SERVERS entries with base URLs and declarers of the longest length allowed. What a view
 * can hold, we can read back.
 */
export const MAX_FULL_LIST_BYTES = MAX_SERVERS * (2 * MAX_BASE_URL_LENGTH + 200);
