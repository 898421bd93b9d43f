import type { ClusterConfig } from '../clustershazbot.options.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../security/canonical-json.js';
import { signRequest, type RequestVerifier } from '../security/request-signature.js';

/** The logical path a signature covers: independent of proxies and global prefixes. */
export function signedPath(config: Pick<ClusterConfig, 'routePrefix'>, endpoint: string): string {
  return `/${config.routePrefix ? `${config.routePrefix}/` : ''}${endpoint}`;
}

/** One verification for guards and the plain-function API alike. */
export function verifySignedRequest(
  verifier: RequestVerifier,
  config: Pick<ClusterConfig, 'routePrefix'>,
  secrets: readonly string[],
  header: unknown,
  method: string,
  endpoint: string,
  body: unknown,
  rawBody?: Uint8Array,
): 'ok' | 'unauthorized' | 'wrong-cluster' | 'too-deep' {
  const hasBody = method.toUpperCase() !== 'GET' && method.toUpperCase() !== 'HEAD';
  // before anything recursive touches it (canonical JSON, validation)
  if (hasBody && nestedDeeperThan(body, MAX_JSON_DEPTH)) return 'too-deep';
  const result = verifier.verify(header, secrets, { method, path: signedPath(config, endpoint), body: hasBody ? body : undefined, rawBody: hasBody ? rawBody : undefined });
  if (result.ok) return 'ok';
  return result.reason === 'wrong-cluster' ? 'wrong-cluster' : 'unauthorized';
}

/** The Authorization header this server sends: signed with its first secret. */
export function signedHeader(config: Pick<ClusterConfig, 'routePrefix' | 'cluster'>, secret: string, method: string, endpoint: string, body?: unknown, canonicalBody?: string): string {
  return signRequest(secret, { method, path: signedPath(config, endpoint), cluster: config.cluster, body, canonicalBody });
}
