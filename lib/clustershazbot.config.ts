import { readFileSync } from 'node:fs';
import { InvalidBaseUrlError, normalizeBaseUrl } from './core/base-url.js';
import { DEFAULT_ENGINE_SETTINGS, DETECTOR_PROFILES, type DetectorSettings } from './core/engine-settings.js';
import { AddressGuard } from './security/address-guard.js';
import { isValidClusterName } from './security/request-signature.js';
import { MAX_KEYS_PER_DELTA } from './clustershazbot.constants.js';
import { ClustershazbotConfigError } from './clustershazbot.errors.js';
import { messages } from './clustershazbot.messages.js';
import type { ClusterConfig, ClustershazbotOptions } from './clustershazbot.options.js';
import { describeDnsTarget, isDnsDiscoveryUrl, parseDnsDiscoveryUrl, parseDnsServers, type DnsDiscoveryTarget } from './discovery/dns-discovery-target.js';
import type { MetricsRegistry } from './metrics/metrics-registry.js';

/** The environment variable behind each option that has one. */
export const ENVIRONMENT_VARIABLES = {
  secret: 'SHAZBOT_SECRET',
  controlSecret: 'SHAZBOT_CONTROL_SECRET',
  baseUrl: 'SHAZBOT_BASE_URL',
  masterListUrl: 'SHAZBOT_MASTER_LIST',
  masterListUpdateUrl: 'SHAZBOT_MASTER_LIST_UPDATE',
  masterListUpdateAuth: 'SHAZBOT_MASTER_LIST_UPDATE_AUTH',
  gossipIntervalSeconds: 'SHAZBOT_GOSSIP_INTERVAL',
  masterAnnounceMinimumSeconds: 'SHAZBOT_MASTER_ANNOUNCE_MINIMUM',
  masterAnnounceIntervalSeconds: 'SHAZBOT_MASTER_ANNOUNCE_INTERVAL',
  monitor: 'SHAZBOT_MONITOR',
  updateMasterListOnShutdown: 'SHAZBOT_UPDATE_MASTER_LIST_ON_SHUTDOWN',
  requestTimeoutSeconds: 'SHAZBOT_REQUEST_TIMEOUT',
  maxClockSkewSeconds: 'SHAZBOT_MAX_CLOCK_SKEW',
  offlineRetentionSeconds: 'SHAZBOT_OFFLINE_RETENTION',
  failureDetection: 'SHAZBOT_FAILURE_DETECTION',
  probeIntervalSeconds: 'SHAZBOT_PROBE_INTERVAL',
  probeTimeoutSeconds: 'SHAZBOT_PROBE_TIMEOUT',
  fastFailOnRefusal: 'SHAZBOT_FAST_FAIL_ON_REFUSAL',
  cluster: 'SHAZBOT_CLUSTER',
  signatureWindowSeconds: 'SHAZBOT_SIGNATURE_WINDOW',
  allowedPeers: 'SHAZBOT_ALLOWED_PEERS',
  messageBudgetBytes: 'SHAZBOT_MESSAGE_BUDGET',
  maxStateValueBytes: 'SHAZBOT_MAX_STATE_VALUE',
  maxStateKeys: 'SHAZBOT_MAX_STATE_KEYS',
  dnsServers: 'SHAZBOT_DNS_SERVERS',
  dnsRefreshSeconds: 'SHAZBOT_DNS_REFRESH',
  metrics: 'SHAZBOT_METRICS',
  healthDetails: 'SHAZBOT_HEALTH_DETAILS',
} as const satisfies Partial<Record<keyof ClustershazbotOptions, string>>;

/**
 * The default of every option that has one, in the option's own unit, written once: the
 * core's from DEFAULT_ENGINE_SETTINGS, the shell's here. The options' `@default` docs must
 * match (a test reads them).
 */
export const OPTION_DEFAULTS = {
  gossipIntervalSeconds: 30,
  gossipJitter: 0.25,
  masterAnnounceMinimumSeconds: 300,
  masterAnnounceIntervalSeconds: 600,
  monitor: DEFAULT_ENGINE_SETTINGS.monitor,
  updateMasterListOnShutdown: false,
  requestTimeoutSeconds: 5,
  shutdownTimeoutSeconds: 3,
  shutdownFanout: 3,
  maxClockSkewSeconds: DEFAULT_ENGINE_SETTINGS.maxClockSkewMs / 1000,
  offlineRetentionSeconds: DEFAULT_ENGINE_SETTINGS.retentionMs / 1000,
  monitorPreference: DEFAULT_ENGINE_SETTINGS.monitorPreference,
  offlineProbeProbability: DEFAULT_ENGINE_SETTINGS.offlineProbeProbability,
  failureDetection: 'lan',
  indirectChecks: DEFAULT_ENGINE_SETTINGS.indirectChecks,
  fastFailOnRefusal: DEFAULT_ENGINE_SETTINGS.fastFailOnRefusal,
  cluster: 'default',
  signatureWindowSeconds: 300,
  messageBudgetBytes: DEFAULT_ENGINE_SETTINGS.messageBudgetBytes,
  maxStateValueBytes: DEFAULT_ENGINE_SETTINGS.stateLimits.maxValueBytes,
  maxStateKeys: DEFAULT_ENGINE_SETTINGS.stateLimits.maxKeysPerServer,
  stateTombstoneSeconds: DEFAULT_ENGINE_SETTINGS.stateLimits.tombstoneGraceMs / 1000,
  authFailureLimit: 30,
  maxBodyBytes: 4 * 1024 * 1024,
  masterListUpdateMethod: 'PUT',
  useEnvironment: true,
  dnsRefreshSeconds: 30,
  metrics: false,
  healthDetails: 'counts',
} as const satisfies Partial<Record<keyof ClustershazbotOptions, unknown>>;

const D = OPTION_DEFAULTS;

/** TLS material from files named by these variables (when the `tls` option is not given). */
export const TLS_FILE_VARIABLES = { ca: 'SHAZBOT_TLS_CA_FILE', cert: 'SHAZBOT_TLS_CERT_FILE', key: 'SHAZBOT_TLS_KEY_FILE' } as const;

type Env = (name: string) => string | undefined;

/** What a true/false variable accepts (any case), pair by pair; the error message lists them. */
export const BOOLEAN_WORDS = { true: ['true', '1', 'yes', 'on'], false: ['false', '0', 'no', 'off'] } as const;

/**
 * A problem's message naming its option too, when it names only the variable: a user who
 * configures in code looks for the option, one who uses the environment for the variable.
 */
function withOption(message: string, option?: keyof ClustershazbotOptions): string {
  if (option === undefined || message.includes(`option ${option}`) || message.includes(`option "${option}"`)) return message;
  return `${message} (option ${option})`;
}

/** Label for messages: the variable when there is one, else the option. */
function label(option: keyof ClustershazbotOptions): string {
  return (ENVIRONMENT_VARIABLES as Partial<Record<string, string>>)[option] ?? `option ${option}`;
}

class Reader {
  /** Every problem found so far, each naming its variable and option, so one start-up names them all. */
  readonly problems: string[] = [];

  constructor(
    private readonly options: ClustershazbotOptions,
    private readonly env: Env,
  ) {}

  /**
   * `read()`'s value, or `fallback` after recording its problem: a bad value must not hide the
   * next one, or a user fixes one variable per start.
   */
  collect<T>(read: () => T, fallback: T, option?: keyof ClustershazbotOptions): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ClustershazbotConfigError)) throw error;
      this.problems.push(withOption(error.message, option));
      return fallback;
    }
  }

  /** Records a problem found by a check across options. */
  problem(message: string, option?: keyof ClustershazbotOptions): void {
    this.problems.push(withOption(message, option));
  }

  /** @throws ClustershazbotConfigError listing every recorded problem, when there is one */
  throwIfAny(): void {
    if (this.problems.length === 1) throw new ClustershazbotConfigError(this.problems[0]);
    if (this.problems.length > 1) throw new ClustershazbotConfigError(messages.configProblems(this.problems));
  }

  raw(option: keyof ClustershazbotOptions): unknown {
    const given = this.options[option];
    if (given !== undefined && given !== null && given !== '') return given;
    const variable = (ENVIRONMENT_VARIABLES as Partial<Record<string, string>>)[option];
    const fromEnv = variable ? this.env(variable) : undefined;
    return fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv.trim();
  }

  required(option: keyof ClustershazbotOptions): unknown {
    const value = this.raw(option);
    if (value === undefined) throw new ClustershazbotConfigError(messages.missingVariable(label(option), option));
    return value;
  }

  secrets(option: 'secret' | 'controlSecret'): string[] {
    const value = this.required(option);
    const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
    const trimmed = list.map((s) => s.trim());
    if (trimmed.length === 0 || trimmed.some((s) => s.length === 0)) throw new ClustershazbotConfigError(messages.emptySecret(label(option)));
    return trimmed;
  }

  number(option: keyof ClustershazbotOptions, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = false): number {
    const value = this.raw(option);
    if (value === undefined) return fallback;
    const n = typeof value === 'number' ? value : Number(String(value));
    const ok = Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
    if (!ok) {
      const rule = `${integer ? 'a whole number' : 'a number'} ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`;
      throw new ClustershazbotConfigError(messages.invalidNumber(label(option), String(value), rule));
    }
    return n;
  }

  boolean(option: keyof ClustershazbotOptions, fallback: boolean): boolean {
    const value = this.raw(option);
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    const text = String(value).toLowerCase();
    if ((BOOLEAN_WORDS.true as readonly string[]).includes(text)) return true;
    if ((BOOLEAN_WORDS.false as readonly string[]).includes(text)) return false;
    throw new ClustershazbotConfigError(messages.invalidBoolean(label(option), String(value), BOOLEAN_WORDS));
  }

  choice<T extends string>(option: keyof ClustershazbotOptions, allowed: readonly T[], fallback: T): T {
    const value = this.raw(option);
    if (value === undefined) return fallback;
    const text = String(value).toLowerCase() as T;
    if (!allowed.includes(text)) throw new ClustershazbotConfigError(messages.invalidChoice(label(option), String(value), allowed));
    return text;
  }

  baseUrl(): string {
    const value = String(this.required('baseUrl'));
    try {
      return normalizeBaseUrl(value);
    } catch (error) {
      throw new ClustershazbotConfigError(messages.invalidBaseUrl(label('baseUrl'), (error as InvalidBaseUrlError).message));
    }
  }

  storeUrl(option: 'masterListUrl' | 'masterListUpdateUrl', required: boolean): string | undefined {
    const value = required ? this.required(option) : this.raw(option);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new ClustershazbotConfigError(messages.invalidMasterListUrl(label(option)));
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw new ClustershazbotConfigError(messages.invalidMasterListUrl(label(option)));
    // file://cl/master.json parses, with "cl" as its host, and fails only when read: say it now
    if (url.protocol === 'file:' && url.host !== '') throw new ClustershazbotConfigError(messages.fileUrlWithHost(label(option), url.host));
    if (url.protocol !== 'file:' && !url.hostname) throw new ClustershazbotConfigError(messages.invalidMasterListUrl(label(option)));
    return url.toString();
  }

  /** A `dns://` or `dns+srv://` master list. */
  discovery(): DnsDiscoveryTarget {
    try {
      return parseDnsDiscoveryUrl(String(this.required('masterListUrl')));
    } catch (error) {
      throw new ClustershazbotConfigError(messages.invalidDiscoveryUrl(label('masterListUrl'), (error as Error).message));
    }
  }

  dnsServers(): string[] {
    const value = this.raw('dnsServers');
    if (value === undefined) return [];
    try {
      return parseDnsServers(Array.isArray(value) ? value.map(String) : String(value));
    } catch (error) {
      throw new ClustershazbotConfigError(messages.invalidDnsServers(label('dnsServers'), (error as Error).message));
    }
  }

  /** `metrics`: a registry, true/false, or the variable's true/false (true: the global registry). */
  metrics(): MetricsRegistry | true | undefined {
    const value = this.raw('metrics');
    if (value === undefined || value === false) return undefined;
    if (value === true) return true;
    if (typeof value === 'string') return this.boolean('metrics', D.metrics) ? true : undefined;
    const registry = value as Partial<MetricsRegistry>;
    if (typeof registry === 'object' && typeof registry.getSingleMetric === 'function' && typeof registry.registerMetric === 'function' && typeof registry.metrics === 'function') {
      return registry as MetricsRegistry;
    }
    throw new ClustershazbotConfigError('clustershazbot: option metrics must be a prom-client Registry, true (the global registry) or false');
  }
}

/**
 * Applies environment variables and defaults to the options and validates the result. Every
 * problem is collected first, so one start-up names them all.
 * @throws ClustershazbotConfigError naming each variable (and option) that is missing or
 * malformed: with one problem its message alone, with several a list of them; never a secret.
 */
export function resolveClusterConfig(options: ClustershazbotOptions, env: Env, routePrefix: string): ClusterConfig {
  const environment: Env = options.useEnvironment === false ? () => undefined : env;
  const read = new Reader(options, environment);
  const secrets = read.collect(() => read.secrets('secret'), [], 'secret');
  const controlSecrets = read.collect(() => read.secrets('controlSecret'), [], 'controlSecret');
  if (controlSecrets.some((s) => secrets.includes(s))) read.problem(messages.sameSecrets(), 'controlSecret');
  const baseUrl = read.collect(() => read.baseUrl(), '', 'baseUrl');
  const dns = !options.masterListStore && isDnsDiscoveryUrl(String(read.raw('masterListUrl') ?? ''));
  const discovery = dns ? read.collect(() => read.discovery(), undefined, 'masterListUrl') : undefined;
  const masterListUrl = options.masterListStore
    ? String(read.raw('masterListUrl') ?? 'custom:')
    : dns
      ? (discovery && describeDnsTarget(discovery)) ?? ''
      : read.collect(() => read.storeUrl('masterListUrl', true)!, '', 'masterListUrl');
  const masterListUpdateUrl = read.collect(() => read.storeUrl('masterListUpdateUrl', false), undefined, 'masterListUpdateUrl');
  if (dns && masterListUpdateUrl) read.problem(messages.discoveryWithUpload(label('masterListUrl'), label('masterListUpdateUrl')), 'masterListUpdateUrl');
  const masterListUpdateAuth = read.raw('masterListUpdateAuth') as string | undefined;
  if (masterListUpdateUrl?.startsWith('http') && !masterListUpdateAuth && !options.masterListStore) read.problem(messages.missingUpdateAuth(), 'masterListUpdateAuth');
  const seconds = 1000;
  const cluster = String(read.raw('cluster') ?? D.cluster);
  if (!isValidClusterName(cluster)) read.problem(messages.invalidCluster(label('cluster'), cluster), 'cluster');
  const allowedRaw = read.raw('allowedPeers');
  const allowedPeers = (Array.isArray(allowedRaw) ? allowedRaw.map(String) : allowedRaw === undefined ? [] : String(allowedRaw).split(','))
    .map((p) => p.trim())
    .filter(Boolean);
  try {
    new AddressGuard(allowedPeers);
  } catch (error) {
    read.problem(`clustershazbot: ${label('allowedPeers')}: ${(error as Error).message}`, 'allowedPeers');
  }
  const maxValueBytes = read.collect(() => read.number('maxStateValueBytes', D.maxStateValueBytes, 16, 1024 * 1024, true), D.maxStateValueBytes, 'maxStateValueBytes');
  const messageBudgetBytes = read.collect(() => read.number('messageBudgetBytes', D.messageBudgetBytes, 1024, 64 * 1024 * 1024, true), D.messageBudgetBytes, 'messageBudgetBytes');
  // a server's whole state travels in one message, and one value must fit in it with its key and the message around it
  const smallestBudget = maxValueBytes + 1024 + baseUrl.length;
  if (messageBudgetBytes < smallestBudget) {
    read.problem(messages.invalidNumber(label('messageBudgetBytes'), String(messageBudgetBytes), `at least the largest value plus 1024 plus the base URL's length (${smallestBudget}), so that any value fits in one message`), 'messageBudgetBytes');
  }
  const maxBodyBytes = read.collect(() => read.number('maxBodyBytes', D.maxBodyBytes, 1024, 1024 * 1024 * 1024, true), D.maxBodyBytes, 'maxBodyBytes');
  // what we send, a server with the same settings accepts
  if (maxBodyBytes < messageBudgetBytes) {
    read.problem(messages.invalidNumber(label('maxBodyBytes'), String(maxBodyBytes), `at least messageBudgetBytes (${messageBudgetBytes}): servers send messages that large`), 'maxBodyBytes');
  }
  /** A number option, its default standing in (and its problem recorded) when it is malformed. */
  const number = (option: keyof ClustershazbotOptions, fallback: number, min: number, max?: number, integer?: boolean): number =>
    read.collect(() => read.number(option, fallback, min, max, integer), fallback, option);
  const boolean = (option: keyof ClustershazbotOptions, fallback: boolean): boolean => read.collect(() => read.boolean(option, fallback), fallback, option);
  const config: ClusterConfig = {
    cluster,
    allowedPeers,
    messageBudgetBytes,
    stateLimits: {
      maxKeyLength: DEFAULT_ENGINE_SETTINGS.stateLimits.maxKeyLength,
      maxValueBytes,
      maxKeysPerServer: number('maxStateKeys', D.maxStateKeys, 1, MAX_KEYS_PER_DELTA, true),
      tombstoneGraceMs: number('stateTombstoneSeconds', D.stateTombstoneSeconds, 1) * seconds,
    },
    tls: read.collect(() => resolveTls(options, environment), {}, 'tls'),
    authFailureLimit: number('authFailureLimit', D.authFailureLimit, 0, 1_000_000, true),
    maxBodyBytes,
    healthDetails: read.collect(() => read.choice('healthDetails', ['counts', 'full'] as const, D.healthDetails), D.healthDetails, 'healthDetails'),
    signatureWindowMs: number('signatureWindowSeconds', D.signatureWindowSeconds, 1, 86_400) * seconds,
    secrets,
    controlSecrets,
    baseUrl,
    routePrefix,
    masterListUrl,
    masterListUpdateUrl,
    masterListUpdateAuth: masterListUpdateAuth === undefined ? undefined : String(masterListUpdateAuth),
    masterListUpdateMethod: options.masterListUpdateMethod ?? D.masterListUpdateMethod,
    gossipIntervalMs: number('gossipIntervalSeconds', D.gossipIntervalSeconds, 0.01) * seconds,
    gossipJitter: number('gossipJitter', D.gossipJitter, 0, 0.9),
    announceMinimumMs: number('masterAnnounceMinimumSeconds', D.masterAnnounceMinimumSeconds, 0) * seconds,
    announceIntervalMs: number('masterAnnounceIntervalSeconds', D.masterAnnounceIntervalSeconds, 0) * seconds,
    monitor: boolean('monitor', D.monitor),
    updateMasterListOnShutdown: boolean('updateMasterListOnShutdown', D.updateMasterListOnShutdown),
    requestTimeoutMs: number('requestTimeoutSeconds', D.requestTimeoutSeconds, 0.01) * seconds,
    shutdownTimeoutMs: number('shutdownTimeoutSeconds', D.shutdownTimeoutSeconds, 0) * seconds,
    shutdownFanout: number('shutdownFanout', D.shutdownFanout, 0, 1000, true),
    maxClockSkewMs: number('maxClockSkewSeconds', D.maxClockSkewSeconds, 0) * seconds,
    retentionMs: number('offlineRetentionSeconds', D.offlineRetentionSeconds, 1) * seconds,
    monitorPreference: number('monitorPreference', D.monitorPreference, 0, 1),
    offlineProbeProbability: number('offlineProbeProbability', D.offlineProbeProbability, 0, 1),
    detector: resolveDetector(read),
    masterListStore: options.masterListStore,
    discovery,
    dnsServers: read.collect(() => read.dnsServers(), [], 'dnsServers'),
    dnsRefreshMs: number('dnsRefreshSeconds', D.dnsRefreshSeconds, 1, 86_400) * seconds,
    metrics: read.collect(() => read.metrics(), undefined, 'metrics'),
  };
  read.throwIfAny();
  return config;
}

function resolveTls(options: ClustershazbotOptions, env: Env): ClusterConfig['tls'] {
  const tls: ClusterConfig['tls'] = { ...options.tls };
  for (const [field, variable] of Object.entries(TLS_FILE_VARIABLES) as [keyof typeof TLS_FILE_VARIABLES, string][]) {
    const path = env(variable)?.trim();
    if (tls[field] !== undefined || !path) continue;
    try {
      tls[field] = readFileSync(path);
    } catch (error) {
      throw new ClustershazbotConfigError(`clustershazbot: ${variable} names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!!tls.cert !== !!tls.key) throw new ClustershazbotConfigError('clustershazbot: a TLS client certificate needs its key, and a key its certificate (SHAZBOT_TLS_CERT_FILE, SHAZBOT_TLS_KEY_FILE)');
  return tls;
}

function resolveDetector(read: Reader): Partial<DetectorSettings> {
  const profileName = read.collect(() => read.choice('failureDetection', ['lan', 'wan', 'local', 'off'] as const, D.failureDetection), D.failureDetection, 'failureDetection');
  if (profileName === 'off') return { probeIntervalMs: 0, pushIntervalMs: 0 };
  const profile = DETECTOR_PROFILES[profileName];
  const number = (option: keyof ClustershazbotOptions, fallback: number, min: number, max?: number, integer?: boolean): number =>
    read.collect(() => read.number(option, fallback, min, max, integer), fallback, option);
  const probeIntervalMs = number('probeIntervalSeconds', profile.probeIntervalMs / 1000, 0.01) * 1000;
  const probeTimeoutMs = number('probeTimeoutSeconds', profile.probeTimeoutMs / 1000, 0.001) * 1000;
  if (probeTimeoutMs >= probeIntervalMs) {
    read.problem(messages.invalidNumber(label('probeTimeoutSeconds'), String(probeTimeoutMs / 1000), `less than the probe interval (${probeIntervalMs / 1000} s)`), 'probeTimeoutSeconds');
  }
  return {
    ...profile,
    probeIntervalMs,
    probeTimeoutMs,
    indirectChecks: number('indirectChecks', profile.indirectChecks, 0, 16, true),
    suspicionMult: number('suspicionMultiplier', profile.suspicionMult, 1, 100),
    fastFailOnRefusal: read.collect(() => read.boolean('fastFailOnRefusal', D.fastFailOnRefusal), D.fastFailOnRefusal, 'fastFailOnRefusal'),
    pushIntervalMs: number('pushIntervalSeconds', profile.pushIntervalMs / 1000, 0) * 1000,
    pushFanout: number('pushFanout', profile.pushFanout, 0, 16, true),
  };
}

/** For log lines: scheme, host and path of a URL, never its query or credentials (they may hold tokens). */
export function describeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return url.protocol === 'file:' ? url.toString() : `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
