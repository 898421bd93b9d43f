import type { EngineLog } from './engine-log.js';
import type { MemberEntry } from './membership-view.js';
import type { GossipTransport } from './transport.js';

/** Counters of one server's engine since it started (in `ClusterService.status().stats`). */
export interface EngineStats {
  /** Gossip rounds this server started. */
  rounds: number;
  exchangesOk: number;
  exchangesFailed: number;
  /** Gossip messages this server answered. */
  gossipReceived: number;
  /** Probes this server sent (direct), and how many went unanswered. */
  probesSent: number;
  probesFailed: number;
  /** Members this server declared suspect, and offline (its own suspicion expired). */
  suspicionsRaised: number;
  declaredOffline: number;
  /** Pushes of waiting changes sent (see pushTick). */
  pushesSent: number;
  /** Of `declaredOffline`: members declared at once because every probe of them was refused. */
  refusalsConfirmed: number;
  /** Accusations skipped because this server's own timers ran late (local health). */
  accusationsWithheld: number;
  /** Incoming entries refused: malformed, stamped too far ahead, or older than the retention period. */
  entriesRefused: number;
  /** Times this server re-asserted its own entry over a newer rumour about itself (refutations). */
  selfReassertions: number;
  /** Lifeguard local health score: 0 is healthy. */
  localHealth: number;
  /** Syncs this server started that found both views equal (one small request and answer). */
  syncsEqual: number;
  /** Syncs that needed digests and deltas. */
  syncsRepaired: number;
  /** Times this server started a new generation of its key/value state (a peer held stale state about it). */
  stateRefutations: number;
  /** Membership changes waiting to be piggybacked (a queue that keeps growing means more churn than gossip can carry). */
  broadcastQueueDepth: number;
}

/** What the engine needs from its host: time, randomness, the network, and where to log. */
export interface EngineDeps {
  now: () => number;
  random: () => number;
  transport: GossipTransport;
  log?: EngineLog;
  /** Address policy: a peer URL for which this is false never enters the view and is never contacted. */
  acceptPeer?: (baseUrl: string) => boolean;
  /** See MembershipView: lets a simulator share entry objects among all its views. */
  shareEntry?: (entry: MemberEntry) => MemberEntry;
}
