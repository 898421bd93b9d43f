export { ClustershazbotModule } from './clustershazbot.module.js';
export { CLUSTERSHAZBOT_MODULE_OPTIONS } from './clustershazbot.module-definition.js';
export { ClusterService, peerEventOf, type ClusterCounts, type ClusterHealthExtension, type ClusterView, type ClusterStatus, type PeerEvent } from './cluster.service.js';
export { ClusterHealthIndicator } from './health/cluster.health.js';
export type { LifecycleState, MasterListStatus } from './gossip.service.js';
export type { ClustershazbotOptions, ClustershazbotModuleExtras, ClusterConfig } from './clustershazbot.options.js';
export { ENVIRONMENT_VARIABLES, resolveClusterConfig } from './clustershazbot.config.js';
export { ClustershazbotConfigError, ClustershazbotRequestError } from './clustershazbot.errors.js';
export { DEFAULT_ROUTE_PREFIX, MAX_SERVERS_PER_LIST } from './clustershazbot.constants.js';
export type { MasterListStore } from './master-list/master-list-store.interface.js';
export { UrlMasterListStore } from './master-list/url-master-list.store.js';
export * from './dto/index.js';
export * from './guards/index.js';
export type { GossipServer, ServerList, GossipMessage, ControlMessage, ProbeMessage, ProbeAck, SyncMessage, DigestEntry } from './core/types.js';
export { StateValueError, DEFAULT_STATE_LIMITS, type JsonValue, type StateChange, type StateDelta, type StateEntry, type StateLimits } from './core/replicated-state.js';
export type { MemberEntry, MemberState, MembershipChange, MembershipChangeType } from './core/membership-view.js';
export { DETECTOR_PROFILES, type DetectorProfile, type DetectorSettings, type EngineStats, type GossipTransport } from './core/cluster-engine.js';
export { normalizeBaseUrl } from './core/base-url.js';
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
} from './standalone/shazbot.js';
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
