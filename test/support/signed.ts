import type request from 'supertest';
import { signRequest } from '../../lib/security/request-signature.js';

/** The e2e fixture's base URL (app-fixture's SELF): what the apps under test expect signatures to name. */
export const DEFAULT_TARGET = 'http://127.0.0.1:9/';

/** The Authorization header of a signed request to `target`, as a peer or the CLI would send it. */
export function auth(secret: string, method: string, path: string, body?: unknown, cluster = 'default', target = DEFAULT_TARGET): { authorization: string } {
  return { authorization: signRequest(secret, { method, target, path, cluster, body }) };
}

type Agent = ReturnType<typeof request>;

export function signedPost(agent: Agent, path: string, secret: string, body: unknown, cluster?: string, target?: string) {
  return agent.post(path).set(auth(secret, 'POST', path, body, cluster, target)).send(body as object);
}

export function signedGet(agent: Agent, path: string, secret: string, cluster?: string, target?: string) {
  return agent.get(path).set(auth(secret, 'GET', path, undefined, cluster, target));
}
