#!/usr/bin/env node
/**
 * Operators' tool: signed requests without writing code.
 *
 *   SHAZBOT_CONTROL_SECRET=… npx clustershazbot control http://10.0.0.5:3000/ --offline
 *   SHAZBOT_SECRET=… npx clustershazbot list http://10.0.0.5:3000/
 *   SHAZBOT_SECRET=… npx clustershazbot state http://10.0.0.5:3000/
 *   SHAZBOT_SECRET=… npx clustershazbot sign POST /clustershazbot/gossip '{"message":"gossip","online":[]}' --url http://10.0.0.5:3000/
 *
 * SHAZBOT_CLUSTER (default "default") and --prefix (default "clustershazbot") must match the servers.
 * A signature is good only for the server it names: its SHAZBOT_BASE_URL (--target when you
 * reach it at another URL, through a tunnel or a proxy). Replies must be signed for the request.
 * The first comma-separated secret signs. Secrets are read from the environment, never from arguments.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signRequest } from './security/request-signature.js';
import { canonicalJson } from './security/canonical-json.js';
import { REPLY_SIGNATURE_HEADER, verifyReply } from './security/reply-signature.js';

const USAGE = `usage:
  clustershazbot control <baseUrl> --offline|--online [--prefix clustershazbot] [--target <baseUrl>]   (needs SHAZBOT_CONTROL_SECRET)
  clustershazbot list <baseUrl> [--prefix clustershazbot] [--target <baseUrl>]                          (needs SHAZBOT_SECRET)
  clustershazbot state <baseUrl> [--prefix clustershazbot] [--target <baseUrl>]                         (needs SHAZBOT_SECRET; every server's keys)
  clustershazbot sign <METHOD> <path> [json-body] --url <baseUrl>                                      (needs SHAZBOT_SECRET; prints the header)
--url: the server the signed request is for (its base URL); --target: the server's own base URL (SHAZBOT_BASE_URL), when it differs from the URL you reach it at
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

async function send(method: 'GET' | 'POST', baseUrl: string, target: string, path: string, secret: string, body?: unknown): Promise<void> {
  const cluster = process.env.SHAZBOT_CLUSTER || 'default';
  const sent = body === undefined ? undefined : canonicalJson(body); // the text the signature covers
  const url = new URL(path.slice(1), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  let offset = 0;
  for (let attempt = 0; ; attempt++) {
    const nonce = randomBytes(16).toString('base64url');
    const sentAt = Date.now();
    const authorization = signRequest(secret, { method, target, path, cluster, body, canonicalBody: sent }, sentAt + offset, nonce);
    const response = await fetch(url, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: sent,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const raw = Buffer.from(await response.arrayBuffer());
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const proof = verifyReply(response.headers.get(REPLY_SIGNATURE_HEADER), [secret], { nonce, status: response.status, rawBody: raw, body: parsed });
    // a signed 401: the server started after our stamp by its clock; once more, stamped on it
    if (response.status === 401 && proof.ok && attempt === 0) {
      offset = proof.ts - Math.round((sentAt + Date.now()) / 2);
      continue;
    }
    process.stdout.write(`${response.status} ${raw.toString('utf8')}\n`);
    if (response.ok && !proof.ok) fail('the reply is not signed for this request: it did not come from a server holding the secret');
    if (!response.ok) process.exit(1);
    return;
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { offline: { type: 'boolean' }, online: { type: 'boolean' }, prefix: { type: 'string', default: 'clustershazbot' }, target: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  const prefix = (values.prefix ?? 'clustershazbot').replace(/^\/+|\/+$/g, '');
  if (values.help || !command) fail('');
  if (command === 'control') {
    if (!rest[0] || values.offline === values.online) fail('control needs a base URL and exactly one of --offline, --online');
    return send('POST', rest[0], values.target ?? rest[0], `/${prefix}/control`, secretFrom('SHAZBOT_CONTROL_SECRET'), { message: 'control', online: !!values.online });
  }
  if (command === 'list' || command === 'state') {
    if (!rest[0]) fail(`${command} needs a base URL`);
    return send('GET', rest[0], values.target ?? rest[0], `/${prefix}/${command}`, secretFrom('SHAZBOT_SECRET'));
  }
  if (command === 'sign') {
    const [method, path, json] = rest;
    const target = values.url;
    if (!method || !path || !target) fail('sign needs a method, a path and --url, the base URL of the server the request is for');
    let body: unknown;
    try {
      body = json === undefined ? undefined : JSON.parse(json);
    } catch {
      fail('the body is not valid JSON');
    }
    process.stdout.write(`${signRequest(secretFrom('SHAZBOT_SECRET'), { method, target, path, cluster: process.env.SHAZBOT_CLUSTER || 'default', body })}\n`);
    return;
  }
  fail(`unknown command "${command}"`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
