export { ClustershazbotModule } from './clustershazbot.module.js';
export { CLUSTERSHAZBOT_MODULE_OPTIONS } from './clustershazbot.module-definition.js';
export { ClusterService, peerEventOf, type StateSelection, type ClusterCounts, type ClusterHealthExtension, type ClusterView, type ClusterStatus, type PeerEvent } from './cluster.service.js';
export { ClusterHealthIndicator } from './health/cluster.health.js';
export type { ClusterProblem, ClusterProblemCode, ClusterProblemEvent, Readiness } from './diagnostics/cluster-diagnostics.js';
export type { LifecycleState, MasterListStatus } from './gossip.service.js';
export type { ClustershazbotOptions, ClustershazbotModuleExtras, ClusterConfig } from './clustershazbot.options.js';
export { ENVIRONMENT_VARIABLES, resolveClusterConfig } from './clustershazbot.config.js';
export { ClustershazbotConfigError, ClustershazbotRequestError } from './clustershazbot.errors.js';
export { DEFAULT_ROUTE_PREFIX, MAX_SERVERS_PER_LIST } from './clustershazbot.constants.js';
export type { MasterListStore } from './master-list/master-list-store.interface.js';
export { UrlMasterListStore } from './master-list/url-master-list.store.js';
export type { DiscoveryStatus } from './discovery/dns-discovery.service.js';
export type { MetricsRegistry, MetricsOption } from './metrics/metrics-registry.js';
export { METRICS_PREFIX } from './metrics/cluster-metrics.js';
export * from './dto/index.js';
export * from './guards/index.js';
export type { GossipServer, ServerList, GossipMessage, ControlMessage, ProbeMessage, ProbeAck, SyncMessage, DigestEntry } from './core/types.js';
export { StateValueError, type JsonValue, type StateChange, type StateDelta, type StateEntry } from './core/replicated-state.js';
export type { MemberEntry, MemberState, MembershipChange, MembershipChangeType } from './core/membership-view.js';
export { DETECTOR_PROFILES, DEFAULT_STATE_LIMITS, type DetectorProfile, type DetectorSettings, type StateLimits } from './core/engine-settings.js';
export type { EngineStats } from './core/cluster-engine.js';
export type { GossipTransport } from './core/transport.js';
export { normalizeBaseUrl } from './core/base-url.js';
export * from './coordination/index.js';
export type { OwnershipChange } from './core/key-ownership.js';
export type { QuorumOption, QuorumReport, QuorumCount } from './core/quorum.js';
export type { SingletonRun, SkipReason, SingletonState, SingletonTransition } from './core/singleton-coordinator.js';
export { RendezvousTable, rendezvousOwner } from './core/rendezvous-hash.js';
export {
  shazbotStart,
  shazbotShutDown,
  shazbotGossipRequest,
  shazbotListRequest,
  shazbotControlRequest,
  shazbotProbeRequest,
  shazbotSyncRequest,
  shazbotStateRequest,
  shazbotSetState,
  shazbotDeleteState,
  shazbotPeerValue,
  shazbotState,
  shazbotHealthExtension,
  shazbotCluster,
  type ShazbotRequestOptions,
  shazbotOwner,
  shazbotOwners,
  shazbotIsOwner,
  shazbotRunSingleton,
} from './standalone/shazbot.js';
export { clustershazbotRouter, type ClustershazbotRouterOptions, type ClustershazbotMiddleware } from './standalone/express-router.js';
export {
  signRequest,
  stringToSign,
  hmacSha256,
  RequestVerifier,
  SIGNATURE_SCHEME,
  type RequestVerifierOptions,
  type SignatureInput,
  type VerifiedSignature,
  type VerifyInput,
  type VerifyResult,
} from './security/request-signature.js';
export { signReply, verifyReply, replyStringToSign, REPLY_SIGNATURE_HEADER, type ReplySignatureInput, type ReplyToVerify, type ReplyVerdict } from './security/reply-signature.js';
export { canonicalJson } from './security/canonical-json.js';
