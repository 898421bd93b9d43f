import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { ClustershazbotConfigError } from '../clustershazbot.errors.js';
import { messages } from '../clustershazbot.messages.js';
import type { MembershipChangeType } from '../core/membership-view.js';
import type { MetricsOption, MetricsRegistry } from './metrics-registry.js';

type PromClient = typeof import('prom-client');
type Counter = import('prom-client').Counter<string>;
type Gauge = import('prom-client').Gauge<string>;
type Histogram = import('prom-client').Histogram<string>;

/** Every metric's name starts with this. */
export const METRICS_PREFIX = 'clustershazbot_';

export type MessageType = 'gossip' | 'probe' | 'sync' | 'list' | 'state' | 'control';
/** What the transport sends (the other types come from operators' tools). */
export type OutboundType = 'gossip' | 'probe' | 'sync';
/** How a probe ended, as `probes_total{result}` names it. */
export type ProbeResult = 'ack' | 'nack' | 'refused' | 'timeout' | 'error';
/** Why a request was refused, from its HTTP status (see `refusalReasonOf`). */
export type RefusalReason = 'unauthorized' | 'wrong_cluster' | 'rate_limited' | 'too_large' | 'invalid' | 'other';
/** How an outbound request ended. */
export type SendOutcome = 'ok' | 'refused' | 'timeout' | 'error';

const MESSAGE_TYPES: readonly MessageType[] = ['gossip', 'probe', 'sync', 'list', 'state', 'control'];
const OUTBOUND_TYPES: readonly OutboundType[] = ['gossip', 'probe', 'sync'];
const TRANSITIONS: readonly MembershipChangeType[] = ['joined', 'suspect', 'offline', 'online', 'removed'];
const PROBE_RESULTS: readonly ProbeResult[] = ['ack', 'nack', 'refused', 'timeout', 'error'];
const REFUSALS: readonly RefusalReason[] = ['unauthorized', 'wrong_cluster', 'rate_limited', 'too_large', 'invalid', 'other'];
/** Seconds: loopback round trips (1 ms) to a WAN probe timeout (3 s) and beyond. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The refusal reason of an HTTP status the endpoints answer (guards: 401, 403, 413, 429; pipe and depth check: 400). */
export function refusalReasonOf(status: number): RefusalReason {
  return ({ 400: 'invalid', 401: 'unauthorized', 403: 'wrong_cluster', 413: 'too_large', 429: 'rate_limited' } as Record<number, RefusalReason>)[status] ?? 'other';
}

/** The message type of an endpoint path (`/clustershazbot/gossip?x` → `gossip`), or undefined. */
export function messageTypeOf(path: string): MessageType | undefined {
  const end = path.indexOf('?');
  const clean = (end < 0 ? path : path.slice(0, end)).replace(/\/+$/, '');
  const last = clean.slice(clean.lastIndexOf('/') + 1) as MessageType;
  return MESSAGE_TYPES.includes(last) ? last : undefined;
}

/** What the gauges read at scrape time; one per running module (see `ClusterMetricsCollector`). */
export interface MetricsSource {
  members(): { alive: number; suspect: number; offline: number };
  healthScore(): number;
  broadcastQueueDepth(): number;
  viewChecksum(): number;
  /** Seeds of the last good DNS resolution; undefined when discovery is not DNS. */
  discoverySeeds(): number | undefined;
}

/**
 * Live sources per registry, kept on the registry object under a global symbol, so that a module
 * reloaded in the same process (a new copy of this file) still finds the gauges' list.
 */
const SOURCES = Symbol.for('clustershazbot.metrics.sources');

function sourcesOf(registry: MetricsRegistry): MetricsSource[] {
  const holder = registry as unknown as { [SOURCES]?: MetricsSource[] };
  return (holder[SOURCES] ??= []);
}

/** The source gauges report: the module registered last that is still running. */
function currentSource(registry: MetricsRegistry): MetricsSource | undefined {
  const list = sourcesOf(registry);
  return list[list.length - 1];
}

function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

interface Instruments {
  messagesIn: Record<MessageType, ReturnType<Counter['labels']>>;
  messagesOut: Record<OutboundType, ReturnType<Counter['labels']>>;
  bytesIn: ReturnType<Counter['labels']>;
  bytesOut: ReturnType<Counter['labels']>;
  refused: Record<RefusalReason, ReturnType<Counter['labels']>>;
  probes: Counter;
  transitions: Counter;
  probeDuration: Histogram;
  syncDuration: Histogram;
  dnsResolutions?: Counter;
}

/**
 * The module's Prometheus metrics (prom-client, an optional peer dependency, loaded only when
 * the `metrics` option or `SHAZBOT_METRICS` asks for it). Every metric is got from the registry
 * when it already holds one of that name and labels, else created: two modules, a hot reload or a
 * test app built twice never throw "already registered". `collectDefaultMetrics` is never called:
 * process metrics are the host's choice. Disabled, every method is a no-op.
 *
 * Names and types follow https://prometheus.io/docs/practices/naming/ (base units, `_total`
 * counters); the table is in docs/metrics.md. Anchors: memberlist's metrics (probe and gossip
 * timings, `health.score`, queue depth), Grafana dskit's memberlist metrics, ringpop's checksum.
 */
export class ClusterMetrics {
  private constructor(
    readonly registry: MetricsRegistry | undefined,
    private readonly m: Instruments | undefined,
  ) {}

  /** Metrics that record nothing (no `metrics` option, or prom-client missing). */
  static disabled(): ClusterMetrics {
    return new ClusterMetrics(undefined, undefined);
  }

  /**
   * Loads prom-client and gets or creates every metric in the registry the option names.
   * `load` is for tests; it defaults to a dynamic `import('prom-client')`.
   * @throws ClustershazbotConfigError when the registry holds a metric of one of our names with other labels.
   */
  static async create(option: MetricsOption | undefined, features: { discovery: boolean } = { discovery: false }, load: () => Promise<unknown> = () => import('prom-client')): Promise<ClusterMetrics> {
    if (!option) return ClusterMetrics.disabled();
    let client: PromClient;
    try {
      const loaded = (await load()) as PromClient & { default?: PromClient };
      client = loaded.Registry ? loaded : loaded.default!;
      if (!client?.Registry) throw new Error('not prom-client');
    } catch {
      new Logger('Clustershazbot').warn(messages.promClientMissing());
      return ClusterMetrics.disabled();
    }
    const registry: MetricsRegistry = option === true ? (client.register as unknown as MetricsRegistry) : option;
    return new ClusterMetrics(registry, ClusterMetrics.instruments(client, registry, features.discovery));
  }

  private static instruments(client: PromClient, registry: MetricsRegistry, discovery: boolean): Instruments {
    const registers = [registry as unknown as import('prom-client').Registry];
    const getOrCreate = <T>(name: string, labelNames: readonly string[], make: () => T): T => {
      const existing = registry.getSingleMetric(name) as { labelNames?: readonly string[] } | undefined;
      if (!existing) return make();
      if ([...(existing.labelNames ?? [])].sort().join() !== [...labelNames].sort().join()) {
        throw new ClustershazbotConfigError(`clustershazbot: the metrics registry already holds ${name} with other labels (${(existing.labelNames ?? []).join(', ') || 'none'}); use another registry`);
      }
      return existing as T;
    };
    const counter = (name: string, help: string, labelNames: readonly string[]) =>
      getOrCreate(METRICS_PREFIX + name, labelNames, () => new client.Counter({ name: METRICS_PREFIX + name, help, labelNames, registers }));
    const histogram = (name: string, help: string, labelNames: readonly string[]) =>
      getOrCreate(METRICS_PREFIX + name, labelNames, () => new client.Histogram({ name: METRICS_PREFIX + name, help, labelNames, buckets: DURATION_BUCKETS, registers }));
    const gauge = (name: string, help: string, labelNames: readonly string[], collect: (this: Gauge, source: MetricsSource) => void) =>
      getOrCreate(METRICS_PREFIX + name, labelNames, () =>
        new client.Gauge({
          name: METRICS_PREFIX + name,
          help,
          labelNames,
          registers,
          collect(this: Gauge) {
            const source = currentSource(registry);
            if (source) collect.call(this, source);
            else this.reset();
          },
        }),
      );

    gauge('members', 'Members of this server\'s view by state (this server included).', ['state'], function (source) {
      const counts = source.members();
      this.set({ state: 'alive' }, counts.alive);
      this.set({ state: 'suspect' }, counts.suspect);
      this.set({ state: 'offline' }, counts.offline);
    });
    gauge('health_score', 'Lifeguard local health (awareness): 0 is healthy; higher means this server missed acks or was wrongly suspected, and it slows its probes.', [], function (source) {
      this.set(source.healthScore());
    });
    gauge('broadcast_queue_depth', 'Membership changes waiting to be piggybacked on probes and pushes.', [], function (source) {
      this.set(source.broadcastQueueDepth());
    });
    gauge('view_checksum', 'A 52-bit fingerprint of this server\'s view (members, stamps, states and key/value versions): equal on servers whose views agree, so several values across the fleet show a split or a sync in progress.', [], function (source) {
      this.set(source.viewChecksum());
    });
    if (discovery) {
      gauge('discovery_seeds', 'Seeds from the last good DNS resolution (registered only when the master list is a dns:// or dns+srv:// URL).', [], function (source) {
        this.set(source.discoverySeeds() ?? 0);
      });
    }
    const buildInfo = getOrCreate(METRICS_PREFIX + 'build_info', ['version'], () =>
      new client.Gauge({ name: METRICS_PREFIX + 'build_info', help: 'Always 1; the clustershazbot version in its label.', labelNames: ['version'], registers }),
    );
    buildInfo.set({ version: packageVersion() }, 1);

    const messagesTotal = counter('messages_total', 'Gossip messages (requests): sent by this server (direction="out") and accepted by its endpoints (direction="in"), by endpoint.', ['direction', 'type']);
    const bytes = counter('message_bytes_total', 'Bytes of message bodies, as sent or as their Content-Length gave them: requests and replies this server sent (out) and received (in).', ['direction']);
    const refused = counter('requests_refused_total', 'Requests to the endpoints refused, by reason: unauthorized (401), wrong_cluster (403), rate_limited (429), too_large (413), invalid (400).', ['reason']);
    const probes = counter('probes_total', 'Probes this server sent, direct or indirect (through a helper), by result: ack, nack (the helper\'s target did not answer), refused (connection refused), timeout, error.', ['kind', 'result']);
    const transitions = counter('member_transitions_total', 'Membership changes this server learned, by the change: joined, suspect, offline, online (back), removed (expired).', ['to']);
    const probeDuration = histogram('probe_duration_seconds', 'Round trip of the probes this server sent, answered or not (an indirect probe includes the helper\'s own probe).', ['kind']);
    const syncDuration = histogram('sync_duration_seconds', 'Round trip of each sync request this server sent (a digest-and-delta sync takes one to three).', []);
    const dnsResolutions = discovery ? counter('dns_resolutions_total', 'DNS discovery resolutions, by result: ok or error (registered only with DNS discovery).', ['result']) : undefined;

    // every series exists from the start at 0, so rate() and increase() see the first event
    for (const to of TRANSITIONS) transitions.inc({ to }, 0);
    for (const kind of ['direct', 'indirect']) for (const result of PROBE_RESULTS) probes.inc({ kind, result }, 0);
    for (const reason of REFUSALS) refused.inc({ reason }, 0);
    for (const direction of ['in', 'out']) bytes.inc({ direction }, 0);
    for (const result of ['ok', 'error']) dnsResolutions?.inc({ result }, 0);
    const byType = (direction: string, types: readonly MessageType[]) =>
      Object.fromEntries(
        types.map((type) => {
          messagesTotal.inc({ direction, type }, 0);
          return [type, messagesTotal.labels(direction, type)];
        }),
      ) as Record<MessageType, ReturnType<Counter['labels']>>;
    return {
      messagesIn: byType('in', MESSAGE_TYPES),
      messagesOut: byType('out', OUTBOUND_TYPES),
      bytesIn: bytes.labels('in'),
      bytesOut: bytes.labels('out'),
      refused: Object.fromEntries(REFUSALS.map((r) => [r, refused.labels(r)])) as Record<RefusalReason, ReturnType<Counter['labels']>>,
      probes,
      transitions,
      probeDuration,
      syncDuration,
      dnsResolutions,
    };
  }

  get enabled(): boolean {
    return this.m !== undefined;
  }

  /** Makes the gauges read this source until the returned function is called (module shutdown). */
  addSource(source: MetricsSource): () => void {
    if (!this.registry) return () => undefined;
    const list = sourcesOf(this.registry);
    list.push(source);
    return () => {
      const at = list.indexOf(source);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** An outbound request and its reply (or failure). `replyBytes` from the reply's Content-Length. */
  sent(type: OutboundType, requestBytes: number, replyBytes: number, seconds: number, outcome: SendOutcome, probe?: { indirect: boolean; ack?: boolean; refused?: boolean }): void {
    const m = this.m;
    if (!m) return;
    m.messagesOut[type].inc();
    m.bytesOut.inc(requestBytes);
    if (replyBytes > 0) m.bytesIn.inc(replyBytes);
    if (type === 'sync') m.syncDuration.observe(seconds);
    if (type === 'probe' && probe) {
      const kind = probe.indirect ? 'indirect' : 'direct';
      let result: ProbeResult = outcome === 'ok' ? 'ack' : outcome;
      if (outcome === 'ok' && probe.indirect && !probe.ack) result = probe.refused ? 'refused' : 'nack';
      m.probes.inc({ kind, result });
      m.probeDuration.observe({ kind }, seconds);
    }
  }

  /** A request to one of the endpoints, once answered: accepted (2xx) or refused (4xx). */
  received(type: MessageType, status: number, requestBytes: number, replyBytes: number): void {
    const m = this.m;
    if (!m) return;
    if (status >= 200 && status < 300) {
      m.messagesIn[type].inc();
      if (requestBytes > 0) m.bytesIn.inc(requestBytes);
      if (replyBytes > 0) m.bytesOut.inc(replyBytes);
    } else if (status >= 400 && status < 500) m.refused[refusalReasonOf(status)].inc();
  }

  transition(to: MembershipChangeType): void {
    this.m?.transitions.inc({ to });
  }

  dnsResolution(result: 'ok' | 'error'): void {
    this.m?.dnsResolutions?.inc({ result });
  }
}
