export { ClusterMetrics, METRICS_PREFIX, refusalReasonOf, messageTypeOf, type MessageType, type ProbeResult, type RefusalReason, type MetricsSource } from './cluster-metrics.js';
export type { MetricsRegistry, MetricsOption } from './metrics-registry.js';
