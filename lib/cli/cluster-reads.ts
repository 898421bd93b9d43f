import type { ServerList } from '../core/types.js';
import { parseClusterState, parseServerList, type ClusterState } from './member-rows.js';
import { signedJson, type ConnectionSettings } from './signed-request.js';

/**
 * The calls the operators' commands make, each one signed request through `signedJson`.
 * Each throws `RefusedError` (an error answer, or not the expected shape), `UnreachableError`
 * or `UsageError` (secret unset), with a message that names the server and what to fix.
 * `signedFor`: the server's own base URL when `baseUrl` is another way to reach it (a tunnel,
 * a proxy); the request is sent to `baseUrl` and signed for `signedFor` (default `baseUrl`).
 */

/** A server's view: `GET <prefix>/list`, signed with `SHAZBOT_SECRET`. */
export async function readList(baseUrl: string, connection: ConnectionSettings, signedFor?: string): Promise<ServerList> {
  return parseServerList(await signedJson(baseUrl, { method: 'GET', endpoint: 'list', secretVariable: 'SHAZBOT_SECRET', signedFor }, connection), baseUrl);
}

/** Every server's keys as one server holds them: `GET <prefix>/state`, signed with `SHAZBOT_SECRET`. */
export async function readState(baseUrl: string, connection: ConnectionSettings, signedFor?: string): Promise<ClusterState> {
  return parseClusterState(await signedJson(baseUrl, { method: 'GET', endpoint: 'state', secretVariable: 'SHAZBOT_SECRET', signedFor }, connection), baseUrl);
}

/** Takes a server offline or back online: `POST <prefix>/control`, signed with `SHAZBOT_CONTROL_SECRET`. */
export async function setOnline(baseUrl: string, online: boolean, connection: ConnectionSettings, signedFor?: string): Promise<void> {
  await signedJson(baseUrl, { method: 'POST', endpoint: 'control', secretVariable: 'SHAZBOT_CONTROL_SECRET', body: { message: 'control', online }, signedFor }, connection);
}
