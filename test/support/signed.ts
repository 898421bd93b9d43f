import type request from 'supertest';
import { signRequest } from '../../lib/security/request-signature.js';

/** The Authorization header of a signed request, as a peer or the CLI would send it. */
export function auth(secret: string, method: string, path: string, body?: unknown, cluster = 'default'): { authorization: string } {
  return { authorization: signRequest(secret, { method, path, cluster, body }) };
}

type Agent = ReturnType<typeof request>;

export function signedPost(agent: Agent, path: string, secret: string, body: unknown, cluster?: string) {
  return agent.post(path).set(auth(secret, 'POST', path, body, cluster)).send(body as object);
}

export function signedGet(agent: Agent, path: string, secret: string, cluster?: string) {
  return agent.get(path).set(auth(secret, 'GET', path, undefined, cluster));
}

