#!/usr/bin/env node
/**
 * Operators' tool: signed requests without writing code.
 *
 *   SHAZBOT_CONTROL_SECRET=… npx clustershazbot control http://10.0.0.5:3000/ --offline
 *   SHAZBOT_SECRET=… npx clustershazbot list http://10.0.0.5:3000/
 *   SHAZBOT_SECRET=… npx clustershazbot state http://10.0.0.5:3000/
 *   SHAZBOT_SECRET=… npx clustershazbot sign POST /clustershazbot/gossip '{"message":"gossip","online":[]}'
 *
 * SHAZBOT_CLUSTER (default "default") and --prefix (default "clustershazbot") must match the servers.
 * The first comma-separated secret signs. Secrets are read from the environment, never from arguments.
 */
import { parseArgs } from 'node:util';
import { signRequest } from './security/request-signature.js';
import { canonicalJson } from './security/canonical-json.js';

const USAGE = `usage:
  clustershazbot control <baseUrl> --offline|--online [--prefix clustershazbot]   (needs SHAZBOT_CONTROL_SECRET)
  clustershazbot list <baseUrl> [--prefix clustershazbot]                          (needs SHAZBOT_SECRET)
  clustershazbot state <baseUrl> [--prefix clustershazbot]                         (needs SHAZBOT_SECRET; every server's keys)
  clustershazbot sign <METHOD> <path> [json-body]                                  (needs SHAZBOT_SECRET; prints the header)
environment: SHAZBOT_CLUSTER (default "default")`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function secretFrom(variable: string): string {
  const secret = process.env[variable]?.split(',')[0]?.trim();
  if (!secret) fail(`${variable} is not set`);
  return secret;
}

async function send(method: 'GET' | 'POST', baseUrl: string, path: string, secret: string, body?: unknown): Promise<void> {
  const cluster = process.env.SHAZBOT_CLUSTER || 'default';
  const sent = body === undefined ? undefined : canonicalJson(body); // the text the signature covers
  const authorization = signRequest(secret, { method, path, cluster, body, canonicalBody: sent });
  const url = new URL(path.slice(1), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const response = await fetch(url, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: sent,
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  process.stdout.write(`${response.status} ${text}\n`);
  if (!response.ok) process.exit(1);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { offline: { type: 'boolean' }, online: { type: 'boolean' }, prefix: { type: 'string', default: 'clustershazbot' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  const prefix = (values.prefix ?? 'clustershazbot').replace(/^\/+|\/+$/g, '');
  if (values.help || !command) fail('');
  if (command === 'control') {
    if (!rest[0] || values.offline === values.online) fail('control needs a base URL and exactly one of --offline, --online');
    return send('POST', rest[0], `/${prefix}/control`, secretFrom('SHAZBOT_CONTROL_SECRET'), { message: 'control', online: !!values.online });
  }
  if (command === 'list' || command === 'state') {
    if (!rest[0]) fail(`${command} needs a base URL`);
    return send('GET', rest[0], `/${prefix}/${command}`, secretFrom('SHAZBOT_SECRET'));
  }
  if (command === 'sign') {
    const [method, path, json] = rest;
    if (!method || !path) fail('sign needs a method and a path');
    let body: unknown;
    try {
      body = json === undefined ? undefined : JSON.parse(json);
    } catch {
      fail('the body is not valid JSON');
    }
    process.stdout.write(`${signRequest(secretFrom('SHAZBOT_SECRET'), { method, path, cluster: process.env.SHAZBOT_CLUSTER || 'default', body })}\n`);
    return;
  }
  fail(`unknown command "${command}"`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
