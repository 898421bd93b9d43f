export { ClusterSingleton, CLUSTER_SINGLETON_METADATA } from './cluster-singleton.decorator.js';
export { currentSingletonRun } from './singleton-run.context.js';
export { SINGLETONS_STATE_KEY, type CoordinationStatus } from './coordination.service.js';
export type { ClusterSingletonOptions, RunSingletonOptions, SingletonOutcome, SingletonEvent } from './coordination.types.js';
