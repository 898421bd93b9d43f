import type { StateDelta } from './replicated-state.js';
import type { DigestEntry } from './view-digest.js';

export type { StateDelta, StateEntry, JsonValue } from './replicated-state.js';
export type { DigestEntry } from './view-digest.js';

/**
 * Wire types of the clustershazbot protocol, exactly as the package page defines them.
 * The core speaks these; the Nest shell validates them with the DTOs in `lib/dto/`.
 */

/** One server as seen by the cluster. */
export interface GossipServer {
  /** The server's own base URL, typically `https://<server>:<port>/`. Normalised (see `normalizeBaseUrl`). */
  baseUrl: string;
  /** Monitor servers are preferred as gossip partners. */
  monitor: boolean;
  /** Stamp of the last change to this entry, ms since epoch from a hybrid logical clock. */
  lastUpdate: number;
  /**
   * Extension: on suspect and offline entries made by the failure detector, the server that
   * declared them. Absent when the server itself went offline (it left).
   */
  by?: string;
  /**
   * Extension: the generation of the process this entry is about, the stamp at which that
   * process started. A server that restarts at the same URL is a new process with a new
   * generation, so what was learnt about the previous one (its acks, its flapping) is not held
   * against it, and two processes claiming one URL can be told apart. Absent from page-format peers.
   */
  generation?: number;
}

/** A membership view, as sent on the wire and stored in the master list. */
export interface ServerList {
  online: GossipServer[];
  offline?: GossipServer[];
  /**
   * Extension: servers suspected of having failed, not yet declared offline. Still members;
   * omitted when empty, so page-format peers see the lists they expect.
   */
  suspect?: GossipServer[];
}

/** Body of `POST <prefix>/gossip`. The answer is the receiver's view, a `ServerList` (push-pull). */
export interface GossipMessage extends ServerList {
  message: 'gossip';
}

/** Body of `POST <prefix>/control`: takes this server offline (`false`) or back online (`true`). */
export interface ControlMessage {
  message: 'control';
  online: boolean;
}

/**
 * Body of `POST <prefix>/probe` (extension): a liveness probe carrying recent changes
 * (piggybacked, as in SWIM). With `target`, the receiver probes that server on the sender's
 * behalf (an indirect probe) and answers whether it acknowledged.
 */
export interface ProbeMessage extends ServerList {
  message: 'probe';
  target?: string;
  /**
   * Extension: a self-check. The process of this generation sends it to its own base URL to
   * learn whether the URL reaches it; a process of another generation that receives it learns
   * that a second process claims its URL (an address conflict).
   */
  selfCheck?: number;
  /** Extension: recent key/value changes, piggybacked like membership changes. */
  state?: StateDelta[];
}

/** Answer to a probe: `ack` (false only when an indirect target did not answer) plus recent changes. */
export interface ProbeAck extends ServerList {
  message: 'ack';
  ack: boolean;
  /**
   * Extension, indirect probes only: the target's host refused the connection (nothing listens
   * on its port), as opposed to not answering in time.
   */
  refused?: boolean;
  state?: StateDelta[];
}

/**
 * Body and answer of `POST <prefix>/sync` (extension): digest-and-delta anti-entropy over a
 * two-level hash tree (root, 64 buckets, 64 leaves per bucket; see ViewDigest).
 * 1. `{hash, buckets}`: the sender's root and bucket hashes. Equal views answer `{hash}`
 *    alone: a constant cost whatever N. Otherwise the answer carries, for each differing
 *    bucket, its entries (`digest`, when it holds at most 8 servers) or its 64 leaf hashes
 *    (`leaves`).
 * 2. `{members, state, want, digest}`: what the answerer lacks by its digest; `want`, what
 *    the sender lacks, as the sender's own digest entries; and the sender's entries in the
 *    differing leaves. The answer carries what was wanted and what that digest shows missing,
 *    plus its own `want`.
 * 3. `{members, state}`: what the answer wanted (only when it wanted something).
 * `complete` lists the ranges a digest gives whole (0–63 a bucket, 64 + leaf a leaf), so the
 * other side can tell "absent" from "left out". Every message stays under the byte budget;
 * what does not fit waits for a later round, most stale first.
 */
export interface SyncMessage {
  message: 'sync';
  hash?: string;
  buckets?: string;
  leaves?: { bucket: number; hashes: string }[];
  digest?: DigestEntry[];
  complete?: number[];
  members?: ServerList;
  state?: StateDelta[];
  want?: DigestEntry[];
}
