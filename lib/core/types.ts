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
}

/** Answer to a probe: `ack` (false only when an indirect target did not answer) plus recent changes. */
export interface ProbeAck extends ServerList {
  message: 'ack';
  ack: boolean;
}
