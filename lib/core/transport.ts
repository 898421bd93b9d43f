import type { GossipMessage, ProbeAck, ProbeMessage, ServerList, SyncMessage } from './types.js';

/** The network as the engine sees it. Each call must reject by itself once its timeout has passed. */
export interface GossipTransport {
  /** Full push-pull exchange: send our view, resolve with the peer's. `timeoutMs`: its deadline (default: the transport's request timeout). */
  exchange(peerBaseUrl: string, message: GossipMessage, timeoutMs?: number): Promise<ServerList>;
  /**
   * Liveness probe (direct, or indirect when `message.target` is set). A connection the peer's
   * host refused (nothing listens on the port) must reject with an error whose `code` is
   * `ECONNREFUSED`: the detector takes it as strong evidence of a dead process.
   */
  probe(peerBaseUrl: string, message: ProbeMessage, timeoutMs: number): Promise<ProbeAck>;
  /**
   * One leg of a digest-and-delta sync. A peer without the sync endpoint (it speaks only the
   * page's full lists) must make this reject with an error whose `status` is 404.
   */
  sync(peerBaseUrl: string, message: SyncMessage): Promise<SyncMessage>;
}

/**
 * What a failed transport call says about the peer, read in one place:
 * - `refused`: its host refused the connection (nothing listens on the port: the process is gone);
 * - `not-found`: it answered 404 (it has no such endpoint: a page-format peer, another route
 *   prefix, or not a clustershazbot server at all; a 404 is never signed, so it proves nothing
 *   about who answered);
 * - `foreign`: it answered 403 (it signed or checked for another cluster);
 * - `unauthorized`: it answered 401 (it refused our signature: another secret, or a clock off
 *   by more than the signature window; a 401 is not signed with a secret we share, so it proves
 *   nothing about who answered and only feeds diagnostics);
 * - `silent`: anything else (timeout, reset, 5xx, an invalid reply): no evidence either way.
 */
export type FailureKind = 'refused' | 'not-found' | 'foreign' | 'unauthorized' | 'silent';

export function classifyFailure(error: unknown): FailureKind {
  if (typeof error !== 'object' || error === null) return 'silent';
  const { status, code, authenticated } = error as { status?: unknown; code?: unknown; authenticated?: unknown };
  if (status === 404) return 'not-found';
  if (status === 403) return 'foreign';
  // a signed 401 ("stamped before it started", authenticated) comes from a peer that shares our secret
  if (status === 401 && authenticated !== true) return 'unauthorized';
  if (code === 'ECONNREFUSED') return 'refused';
  return 'silent';
}
