import type { DetectorSettings, StateLimits } from './core/engine-settings.js';
import type { MasterListStore } from './master-list/master-list-store.interface.js';
import type { DnsDiscoveryTarget } from './discovery/dns-discovery-target.js';
import type { MetricsOption, MetricsRegistry } from './metrics/metrics-registry.js';

/**
 * Options of `ClustershazbotModule.forRoot()` / `forRootAsync()` and `shazbotStart()`.
 * Every option is optional: one that is not given is read from its environment variable
 * (through @nestjs/config's ConfigService), then falls back to its default.
 */
export interface ClustershazbotOptions {
  /**
   * Shared secret(s) for gossip, probe, sync, list and state: requests are signed with it and
   * so are their replies (HMAC-SHA256; the secret never crosses the wire; docs/signing.md).
   * Several (array, or comma-separated in the variable) are accepted; the first one signs.
   * Env: `SHAZBOT_SECRET`. Required.
   */
  secret?: string | string[];
  /** Secret(s) for the control endpoint; must differ from `secret`. Env: `SHAZBOT_CONTROL_SECRET`. Required. */
  controlSecret?: string | string[];
  /** This server's base URL as peers reach it, e.g. `http://10.0.0.5:3000/`. Env: `SHAZBOT_BASE_URL`. Required. */
  baseUrl?: string;
  /**
   * Where the master list (a ServerList JSON) is downloaded from: http(s):// or file://; or
   * seeds from DNS, re-resolved for the life of the process: `dns://name:port` (A and AAAA
   * records, each address a seed `http://address:port/`) or `dns+srv://_service._proto.name`
   * (SRV records, RFC 2782); add `?scheme=https` for TLS peers. See docs/discovery.md.
   * Env: `SHAZBOT_MASTER_LIST`. Required.
   */
  masterListUrl?: string;
  /** Where the merged list is uploaded (http(s):// or file://). Unset: never uploaded. Env: `SHAZBOT_MASTER_LIST_UPDATE`. */
  masterListUpdateUrl?: string;
  /** Value of the `Authorization` header sent with an http(s) upload. Env: `SHAZBOT_MASTER_LIST_UPDATE_AUTH`. */
  masterListUpdateAuth?: string;
  /** HTTP method of the upload. @default 'PUT' */
  masterListUpdateMethod?: 'PUT' | 'POST';
  /** Seconds between gossip rounds (fractions allowed). Env: `SHAZBOT_GOSSIP_INTERVAL`. @default 30 */
  gossipIntervalSeconds?: number;
  /** Each round is delayed by the interval times a random factor in [1 - jitter, 1 + jitter]. @default 0.25 */
  gossipJitter?: number;
  /** Minimum seconds before each master-list upload. Env: `SHAZBOT_MASTER_ANNOUNCE_MINIMUM`. @default 300 */
  masterAnnounceMinimumSeconds?: number;
  /** Maximum extra random seconds added to the minimum. Env: `SHAZBOT_MASTER_ANNOUNCE_INTERVAL`. @default 600 */
  masterAnnounceIntervalSeconds?: number;
  /** This server is a monitor (preferred as a gossip partner). Env: `SHAZBOT_MONITOR`. @default false */
  monitor?: boolean;
  /** Upload the master list when shutting down. Env: `SHAZBOT_UPDATE_MASTER_LIST_ON_SHUTDOWN`. @default false */
  updateMasterListOnShutdown?: boolean;
  /** Timeout of every outbound request (gossip, master list). Env: `SHAZBOT_REQUEST_TIMEOUT`. @default 5 */
  requestTimeoutSeconds?: number;
  /** Upper bound on the time shutdown spends telling peers and uploading. @default 3 */
  shutdownTimeoutSeconds?: number;
  /** How many online peers are told directly on shutdown. @default 3 */
  shutdownFanout?: number;
  /** Stamps further ahead of this server's clock are refused (a server 5 min behind still accepts its peers). Env: `SHAZBOT_MAX_CLOCK_SKEW`. @default 600 */
  maxClockSkewSeconds?: number;
  /** Entries not updated for this long are removed (the page's 24 h). Env: `SHAZBOT_OFFLINE_RETENTION`. @default 86400 */
  offlineRetentionSeconds?: number;
  /** Share of rounds sent to a monitor when monitors and other servers are both online. @default 0.5 */
  monitorPreference?: number;
  /** Share of rounds sent to an offline server or master-list seed, to find returning servers. @default 0.1 */
  offlineProbeProbability?: number;
  /**
   * Failure detection profile (SWIM with Lifeguard): `lan` (probe every 1 s, 500 ms timeout),
   * `wan` (5 s, 3 s), `local` (1 s, 200 ms), or `off` (the page's behaviour: a crashed server
   * stays online until someone acts). Env: `SHAZBOT_FAILURE_DETECTION`. @default 'lan'
   */
  failureDetection?: 'lan' | 'wan' | 'local' | 'off';
  /** Overrides the profile's probe interval. Env: `SHAZBOT_PROBE_INTERVAL`. */
  probeIntervalSeconds?: number;
  /** Overrides the profile's probe timeout. Env: `SHAZBOT_PROBE_TIMEOUT`. */
  probeTimeoutSeconds?: number;
  /** Overrides the profile's number of indirect probes. @default 3 */
  indirectChecks?: number;
  /** Overrides the profile's suspicion multiplier (minimum timeout = mult · max(1, log10 N) probe intervals). */
  suspicionMultiplier?: number;
  /**
   * A member whose port refuses our probes and every indirect helper's (nothing listens there:
   * the process died) is declared offline at once, without waiting out a suspicion. A hung or
   * unreachable server is never refused, so it still goes through suspicion.
   * Env: `SHAZBOT_FAST_FAIL_ON_REFUSAL`. @default true
   */
  fastFailOnRefusal?: boolean;
  /**
   * While changes wait to be sent, they are pushed to `pushFanout` random members this often
   * (memberlist's gossip interval; idle when nothing waits). 0 disables pushes: changes then
   * ride on probes only. @default profile (`lan`: 0.2, `wan`: 0.5, `local`: 0.1)
   */
  pushIntervalSeconds?: number;
  /** Members each push goes to. 0 disables pushes. @default profile (`lan`: 3, `wan`: 4, `local`: 3) */
  pushFanout?: number;
  /**
   * Cluster name, inside every signature: servers of another cluster are refused (403) and
   * never merged, even when they share a master list or a secret. Letters, digits, `.`, `_`,
   * `-`, at most 64. Env: `SHAZBOT_CLUSTER`. @default 'default'
   */
  cluster?: string;
  /**
   * A signed request is accepted within this many seconds of its timestamp, once, and only
   * when stamped after this process started. Servers stamp requests on each peer's clock as
   * learned from its signed replies; servers whose clocks differ by more than the window still
   * cannot make first contact: widen it if yours drift that far.
   * Env: `SHAZBOT_SIGNATURE_WINDOW`. @default 300
   */
  signatureWindowSeconds?: number;
  /**
   * Peers this server accepts and connects to: CIDRs, addresses, host names (`*.internal`),
   * each with an optional `:port`. Unset: any address except link-local and cloud-metadata
   * ones, which are refused unless listed here. Checked before every outgoing request (an
   * indirect probe's target included): a refused address is never contacted, and the call
   * fails at its deadline as for a peer that does not answer.
   * Env: `SHAZBOT_ALLOWED_PEERS` (comma-separated).
   */
  allowedPeers?: string[];
  /**
   * Byte budget of one message: each sync leg, and what a probe or ack piggybacks. What does
   * not fit goes in later rounds, most stale first. At least maxStateValueBytes + 1024.
   * Env: `SHAZBOT_MESSAGE_BUDGET`. @default 16384
   */
  messageBudgetBytes?: number;
  /** Largest key/value value, in bytes of its JSON; bigger ones are refused with StateValueError. Env: `SHAZBOT_MAX_STATE_VALUE`. @default 4096 */
  maxStateValueBytes?: number;
  /** Most keys one server may hold. Env: `SHAZBOT_MAX_STATE_KEYS`. @default 256 */
  maxStateKeys?: number;
  /** Deleted and expired keys are remembered this long (so stale peers cannot revive them), then forgotten. @default 3600 */
  stateTombstoneSeconds?: number;
  /**
   * Failed authentications per client address per minute before its further failures get 429
   * instead of 401. A request with a valid signature is never refused by it. 0: no limit. @default 30
   */
  authFailureLimit?: number;
  /**
   * Request bodies larger than this get 413: by their Content-Length when they have one, else
   * by the bytes received (rawBody) or the size of their canonical JSON, so chunked bodies too.
   * The host's body parser reads a body before any guard runs: its own limit (Express
   * `app.useBodyParser('json', { limit })`, Fastify `bodyLimit`) bounds what is buffered.
   * @default 4194304
   */
  maxBodyBytes?: number;
  /**
   * What the Terminus indicator and the health extension show of the membership: `counts`
   * (how many servers are online, offline, suspect) or `full` (this server's base URL and the
   * lists). Health endpoints usually answer anyone; the lists name every server's address.
   * Env: `SHAZBOT_HEALTH_DETAILS`. @default 'counts'
   */
  healthDetails?: 'counts' | 'full';
  /**
   * TLS for https:// peers: a CA to trust (instead of the system's), and a client certificate
   * and key for mutual TLS. PEM text or Buffers. Certificate errors are always errors.
   * Env (file paths): `SHAZBOT_TLS_CA_FILE`, `SHAZBOT_TLS_CERT_FILE`, `SHAZBOT_TLS_KEY_FILE`.
   */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Replaces the built-in http(s)/file master-list store. */
  masterListStore?: MasterListStore;
  /**
   * DNS servers for `dns://` and `dns+srv://` master lists, as `address`, `address:port` or
   * `[ipv6]:port` (an array, or comma-separated in the variable). Unset: the system's
   * (`/etc/resolv.conf`), still through Node's own resolver, never getaddrinfo.
   * Env: `SHAZBOT_DNS_SERVERS`.
   */
  dnsServers?: string[];
  /**
   * Longest time between two DNS resolutions, in seconds; a record TTL that is shorter wins
   * (never below 1 s). Each delay is stretched by up to 20 % at random. Env: `SHAZBOT_DNS_REFRESH`. @default 30
   */
  dnsRefreshSeconds?: number;
  /**
   * Prometheus metrics through prom-client (an optional peer dependency: `npm install
   * prom-client`): a prom-client `Registry`, or `true` for prom-client's global registry. The
   * host exposes the registry (its own `/metrics` route, or a Prometheus module). Metrics are
   * got-or-created, so several modules may share a registry; default process metrics are never
   * registered. See docs/metrics.md. Env: `SHAZBOT_METRICS` (`true`: the global registry).
   * @default false
   */
  metrics?: MetricsOption;
  /** Read `SHAZBOT_*` environment variables for options not given. @default true */
  useEnvironment?: boolean;
}

/** Extras of `forRoot`/`forRootAsync`, fixed when the module is declared. */
export interface ClustershazbotModuleExtras {
  /** Route prefix of the gossip, list and control endpoints; the same on every server. @default 'clustershazbot' */
  routePrefix?: string;
  /** Register the module globally. @default false */
  isGlobal?: boolean;
}

/** Options after environment and defaults are applied and validated (all times in ms). */
export interface ClusterConfig {
  secrets: string[];
  controlSecrets: string[];
  baseUrl: string;
  routePrefix: string;
  masterListUrl: string;
  masterListUpdateUrl?: string;
  masterListUpdateAuth?: string;
  masterListUpdateMethod: 'PUT' | 'POST';
  gossipIntervalMs: number;
  gossipJitter: number;
  announceMinimumMs: number;
  announceIntervalMs: number;
  monitor: boolean;
  updateMasterListOnShutdown: boolean;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  shutdownFanout: number;
  maxClockSkewMs: number;
  retentionMs: number;
  monitorPreference: number;
  offlineProbeProbability: number;
  cluster: string;
  signatureWindowMs: number;
  allowedPeers: string[];
  authFailureLimit: number;
  maxBodyBytes: number;
  healthDetails: 'counts' | 'full';
  messageBudgetBytes: number;
  stateLimits: StateLimits;
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Failure-detector settings after the profile and overrides; probeIntervalMs 0 when off. */
  detector: Partial<DetectorSettings>;
  masterListStore?: MasterListStore;
  /** Set when the master list is a `dns://` or `dns+srv://` URL. */
  discovery?: DnsDiscoveryTarget;
  dnsServers: string[];
  dnsRefreshMs: number;
  /** The registry metrics go to; undefined: no metrics. */
  metrics?: MetricsRegistry | true;
}
