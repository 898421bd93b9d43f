import { escapeForLog } from '../core/log-text.js';

/** Why a signed request was refused, as the request verifier says (see `VerifyResult`); `before-start` and `busy` are no fault of the sender's. */
export type AuthRefusalReason = 'missing' | 'malformed' | 'expired' | 'future' | 'bad-signature' | 'replayed' | 'wrong-cluster';

/** One refused request: who sent it (its address, as the host sees it), to which endpoint, and why. */
export interface AuthRefusal {
  client: string;
  /** The endpoint, e.g. `sync` or `control`. */
  endpoint: string;
  reason: AuthRefusalReason;
  /** This server's cluster name (not a secret): a 403 names it. */
  cluster: string;
}

/**
 * The warning an operator reads for one refused request: the sender's address and the likely
 * cause, named by the setting to compare on both sides. It never carries a secret, a signature
 * or the Authorization header; the address is escaped (it may come from a forwarded header).
 */
export function authRefusalText({ client, endpoint, reason, cluster }: AuthRefusal): string {
  const from = `refused a request to ${escapeForLog(endpoint, 40)} from ${escapeForLog(client, 80)}`;
  const secret = endpoint === 'control' ? 'SHAZBOT_CONTROL_SECRET (option controlSecret)' : 'SHAZBOT_SECRET (option secret)';
  switch (reason) {
    case 'bad-signature':
      return `${from} (401): its signature was made with none of this server's secrets. Its ${secret} differs from this server's, or it is no member of this cluster`;
    case 'expired':
    case 'future':
      return `${from} (401): its signature is stamped further ${reason === 'expired' ? 'in the past' : 'ahead'} than the signature window (SHAZBOT_SIGNATURE_WINDOW): its clock or this server's is off (check NTP on both)`;
    case 'replayed':
      return `${from} (401): its signature was already used (a replayed request)`;
    case 'wrong-cluster':
      return `${from} (403): it signed for another cluster. Its SHAZBOT_CLUSTER (option cluster) differs from this server's '${cluster}'`;
    default:
      return `${from} (401): no valid signature (Authorization header ${reason}): it is no clustershazbot peer, or a client that does not sign its requests`;
  }
}
