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
}

/** A membership view, as sent on the wire and stored in the master list. */
export interface ServerList {
  online: GossipServer[];
  offline?: GossipServer[];
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
