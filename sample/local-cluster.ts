/**
 * Starts sample servers as real processes on loopback: used by the demo (`npm start`) and by
 * the cluster tests. Every process it starts is tracked by pid and stopped by `stopAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { signRequest, verifyReply } from 'clustershazbot';

/** The built sample scripts, found from the package root whether this file runs as TS (tests) or JS. */
function builtSampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'dist-sample', 'sample');
}

/** Embedded demo secrets: loopback only. Real clusters set their own. */
export const DEMO_SECRET = 'demo-gossip-secret';
export const DEMO_CONTROL_SECRET = 'demo-control-secret';

export interface ServerHandle {
  name: string;
  baseUrl: string;
  port: number;
  kind: 'nest' | 'express';
  env: Record<string, string>;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] to run inside a network namespace. */
  wrap: string[];
  /** Where the test reaches the server, when not at its base URL (a management address). */
  adminUrl?: string;
  /** A built script to run instead of the sample app (a benchmark's host app). */
  script?: string;
  child?: ChildProcess;
  output: string[];
}

/** The kernel's range for outgoing connections' source ports (Linux; elsewhere the IANA default). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A port that is free now and stays free until a server binds it: chosen below the ephemeral
 * range, because a port from listen(0) can be taken as the source port of any outgoing
 * connection (a running server's probe) before the server that was meant to use it binds it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.min(10_000, low - 1_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (handedOut.has(port) || !(await bindable(port, host))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port below the ephemeral range (${low}) on ${host}`);
}

/**
 * A port free on every one of `hosts` (e.g. 127.0.0.11–13), for servers that share one port on
 * several loopback addresses, as pods behind a `dns://name:port` record do.
 */
export async function freePortOn(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort(hosts[0]);
    const rest = await Promise.all(hosts.slice(1).map((h) => bindable(port, h)));
    if (rest.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

export class LocalCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'clustershazbot-'));
  readonly masterListPath = join(this.dir, 'master-list.json');
  readonly servers: ServerHandle[] = [];

  constructor(private readonly common: Record<string, string> = {}) {}

  /** Writes the master list: these base URLs as seeds (stamp 0: known addresses, no claimed state). */
  writeMasterList(seeds: string[]): void {
    writeFileSync(this.masterListPath, JSON.stringify({ online: seeds.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: 0 })), offline: [] }));
  }

  async add(
    name: string,
    opts: { kind?: 'nest' | 'express'; env?: Record<string, string>; host?: string; port?: number; wrap?: string[]; adminUrl?: string; script?: string } = {},
  ): Promise<ServerHandle> {
    const host = opts.host ?? '127.0.0.1';
    const port = opts.port ?? (await freePort(host));
    const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const env = {
      SHAZBOT_SECRET: DEMO_SECRET,
      SHAZBOT_CONTROL_SECRET: DEMO_CONTROL_SECRET,
      SHAZBOT_BASE_URL: baseUrl,
      SHAZBOT_MASTER_LIST: pathToFileURL(this.masterListPath).toString(),
      SHAZBOT_GOSSIP_INTERVAL: '0.5',
      SHAZBOT_REQUEST_TIMEOUT: '1',
      ...this.common,
      ...opts.env,
    };
    const handle: ServerHandle = { name, baseUrl, port, kind: opts.kind ?? 'nest', env, wrap: opts.wrap ?? [], adminUrl: opts.adminUrl, script: opts.script, output: [] };
    this.servers.push(handle);
    return handle;
  }

  start(server: ServerHandle): void {
    const script = server.script ?? join(builtSampleDir(), server.kind === 'nest' ? 'main.js' : 'express-app.js');
    const [command, ...args] = [...server.wrap, process.execPath, script];
    const child = spawn(command, args, {
      env: { ...process.env, ...server.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      server.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (server.output.length > 500) server.output.splice(0, server.output.length - 500);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    server.child = child;
  }

  /** Sends a signal to one server and, for terminating signals, waits until it has exited. */
  async signal(server: ServerHandle, signal: NodeJS.Signals, timeoutMs = 10_000): Promise<void> {
    const child = server.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const s of this.servers) if (s.child?.signalCode === null && s.child.exitCode === null) s.child.kill('SIGCONT');
    await Promise.all(this.servers.map((s) => this.signal(s, signal)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * A signed request to one of a server's endpoints, as a peer (gossip secret) or an operator
   * (control secret) sends it: signed for the server's base URL. A signed 401 means the server
   * started after our stamp by its clock (a clock behind it): sent once more, stamped on its clock.
   */
  async signedFetch(server: ServerHandle, method: 'GET' | 'POST', endpoint: string, body?: unknown, timeoutMs = 2000): Promise<Response> {
    const secretVariable = endpoint === 'control' ? 'SHAZBOT_CONTROL_SECRET' : 'SHAZBOT_SECRET';
    const path = `/clustershazbot/${endpoint}`;
    const secret = server.env[secretVariable].split(',')[0].trim(); // the first secret signs, as servers do
    let offset = 0;
    for (let attempt = 0; ; attempt++) {
      const nonce = randomBytes(16).toString('base64url');
      const sentAt = Date.now();
      const authorization = signRequest(secret, { method, target: server.baseUrl, path, cluster: server.env.SHAZBOT_CLUSTER ?? 'default', body }, sentAt + offset, nonce);
      const res = await fetch(`${server.adminUrl ?? server.baseUrl}clustershazbot/${endpoint}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const proof = res.status === 401 && attempt === 0 ? verifyReply(res.headers.get('shazbot-signature'), [secret], { nonce, status: 401 }) : undefined;
      if (!proof?.ok) return res;
      offset = proof.ts - Math.round((sentAt + Date.now()) / 2);
    }
  }

  /** GET a server's list, signed with its gossip secret; undefined when it does not answer. */
  async list(server: ServerHandle, timeoutMs = 2000): Promise<{ online: { baseUrl: string }[]; offline: { baseUrl: string }[] } | undefined> {
    try {
      const res = await this.signedFetch(server, 'GET', 'list', undefined, timeoutMs);
      return res.ok ? ((await res.json()) as { online: { baseUrl: string }[]; offline: { baseUrl: string }[] }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Polls until `check` holds, or throws after `timeoutMs` with the last state seen. */
  async waitFor<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 30_000, everyMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T = await probe();
    while (!check(last)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}${this.exitedServers()}`);
      await new Promise((r) => setTimeout(r, everyMs));
      last = await probe();
    }
    return last;
  }

  /** For a timeout's message: each server whose process has exited unasked, with its last lines of output. */
  private exitedServers(): string {
    const exited = this.servers.filter((s) => s.child && s.child.exitCode !== null && s.child.exitCode !== 0);
    return exited.map((s) => `\n${s.name} exited with code ${s.child!.exitCode}:\n  ${s.output.slice(-8).join('\n  ')}`).join('');
  }

  /** How many online servers each of `servers` sees (undefined when it does not answer). */
  async onlineCounts(servers: ServerHandle[] = this.servers): Promise<(number | undefined)[]> {
    return Promise.all(servers.map(async (s) => (await this.list(s))?.online.length));
  }
}
