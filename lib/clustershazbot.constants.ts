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

export const DEFAULT_ROUTE_PREFIX = 'clustershazbot';

/** Bounds on what one message may carry; the DTOs enforce them. */
export const MAX_SERVERS_PER_LIST = 10_000;
/** Most key/value deltas (servers) in one message, and most keys in one delta. */
export const MAX_STATE_DELTAS = 10_000;
export const MAX_KEYS_PER_DELTA = 10_000;
