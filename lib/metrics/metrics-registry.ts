/**
 * What the module needs of a prom-client `Registry` (prom-client 15): a structural type, so
 * that the library's public types do not require prom-client to be installed.
 */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: unknown): void;
  /** The exposition text of every metric registered (Prometheus text format 0.0.4 by default). */
  metrics(): Promise<string>;
  /** The Content-Type to answer a scrape with. */
  readonly contentType: string;
}

/** The `metrics` option: a registry, `true` for prom-client's global registry, `false` (the default) for none. */
export type MetricsOption = MetricsRegistry | boolean;
