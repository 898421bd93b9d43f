import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * True when the header is `Bearer <token>` and the token equals one of the secrets. Both
 * sides are hashed first so the comparison takes the same time whatever the lengths, and
 * every secret is compared (no early exit), so timing tells nothing about which matched.
 */
export function bearerMatches(header: unknown, secrets: readonly string[]): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  const token = digest(match[1]);
  let found = false;
  for (const secret of secrets) found = timingSafeEqual(token, digest(secret)) || found;
  return found;
}

/** The header this server sends: the first secret signs, the rest are accepted during rotation. */
export function bearerHeader(secrets: readonly string[]): string {
  return `Bearer ${secrets[0]}`;
}
