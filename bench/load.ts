/**
 * `npm run bench:load`: what one signed gossip request costs the server that answers it, next
 * to a bare Nest endpoint of the same server answering a body of the same size, on Express and
 * on Fastify, each with and without Nest's `rawBody`. The module's per-message path (guard,
 * signature, validation, merge, reply) under a microscope: `bench:overhead` gives what a host
 * pays in all, but a server handles only a few messages per second, so it cannot resolve a
 * change of a few µs per message; this can. It also bounds a flood of validly signed requests.
 *
 * Every request is signed afresh (replay protection forbids reuse); the bare requests pay the
 * same signing cost on the client, so the comparison isolates the server's work. The endpoints
 * take turns in short rounds and each figure is the median over the rounds. Where `taskset`
 * exists the server runs on core 0 and the client on core 1. The figure to judge by is the
 * server's CPU time per request (from /proc), which holds whether the client or the server
 * limits the rate. Writes bench-load.json.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, signRequest } from 'clustershazbot';
import { freePort } from '../sample/local-cluster.js';
import { canPin, cpuSeconds, loadAverage } from './process-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const connections = 10;

// the client on core 1, the server on core 0: re-run this script under taskset once
if (canPin && !process.env.BENCH_PINNED) {
  const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } });
  process.exit(child.status ?? 1);
}

const now = Date.now();
const body = { message: 'gossip', online: Array.from({ length: 10 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${20000 + i}/`, monitor: false, lastUpdate: now })) };
// as the library's own senders write it: the canonical JSON the signature covers
const text = canonicalJson(body);

interface Run {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  serverCpuMicrosPerRequest: number;
}

async function run(url: string, path: string, pid: number, duration = seconds): Promise<Run> {
  const target = `${url}/`; // the server's base URL: signatures name the server they are for
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request) => {
          const authorization = signRequest('bench-secret', { method: 'POST', target, path: '/clustershazbot/gossip', cluster: 'default', body, canonicalBody: text });
          return { ...request, body: text, headers: { 'content-type': 'application/json', authorization } };
        },
      },
    ],
  });
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    // server CPU per request: independent of whether the client or the server was the bottleneck
    serverCpuMicrosPerRequest: Math.round((cpu * 1e6) / Math.max(1, result.requests.total)),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One endpoint's rounds, summed up: medians, and every failure counted. */
function summary(runs: Run[]): Run & { rounds: number[] } {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    serverCpuMicrosPerRequest: median(runs.map((r) => r.serverCpuMicrosPerRequest)),
    rounds: runs.map((r) => r.serverCpuMicrosPerRequest),
  };
}

console.log(`bench:load: server CPU per signed gossip request against a bare endpoint of the same server; ${rounds} rounds of ${seconds} s per endpoint, ${connections} connections`);
console.log(`${canPin ? 'server on core 0, client on core 1' : 'NOT PINNED'}; load average ${loadAverage()} at start\n`);
console.log('| platform | rawBody | bare: req/s, CPU µs/request | signed gossip: req/s, p99 ms, CPU µs/request | extra CPU of gossip, µs/request | CPU ratio bare ÷ gossip |');
console.log('|---|---|---|---|---|---|');
const results: Record<string, unknown>[] = [];
for (const platform of ['express', 'fastify']) {
  for (const rawBody of [false, true]) {
    const port = await freePort();
    const command = [join(here, 'load-server.js'), platform, String(port), rawBody ? 'raw' : ''];
    const server = canPin ? spawn('taskset', ['-c', '0', process.execPath, ...command], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    try {
      const url = `http://127.0.0.1:${port}`;
      const pid = server.pid!; // taskset execs the server in place: same pid
      for (const path of ['/bare', '/clustershazbot/gossip']) await run(url, path, pid, 2); // warm-up
      const bare: Run[] = [];
      const gossip: Run[] = [];
      for (let i = 0; i < rounds; i++) {
        bare.push(await run(url, '/bare', pid));
        gossip.push(await run(url, '/clustershazbot/gossip', pid));
      }
      const perRound = (stat: (g: Run, b: Run) => number) => median(gossip.map((g, i) => stat(g, bare[i])));
      const row = {
        platform,
        rawBody,
        seconds,
        rounds,
        connections,
        pinned: canPin,
        bare: summary(bare),
        signedGossip: summary(gossip),
        /** Server CPU a signed gossip request costs beyond a bare one, median of the rounds' differences. */
        extraCpuMicrosPerRequest: perRound((g, b) => g.serverCpuMicrosPerRequest - b.serverCpuMicrosPerRequest),
        cpuRatio: +perRound((g, b) => b.serverCpuMicrosPerRequest / g.serverCpuMicrosPerRequest).toFixed(2),
        load: loadAverage(),
      };
      console.log(
        `| ${platform} | ${rawBody ? 'on' : 'off'} | ${row.bare.requestsPerSecond}, ${row.bare.serverCpuMicrosPerRequest} | ` +
          `${row.signedGossip.requestsPerSecond}, ${row.signedGossip.p99Ms}, ${row.signedGossip.serverCpuMicrosPerRequest} | ${row.extraCpuMicrosPerRequest} | ${row.cpuRatio} |` +
          (row.signedGossip.non2xx || row.signedGossip.errors ? ` ${row.signedGossip.non2xx} non-2xx, ${row.signedGossip.errors} errors` : ''),
      );
      results.push(row);
    } finally {
      server.kill('SIGKILL');
    }
  }
}
console.log(`\nload average ${loadAverage()} at the end`);
writeFileSync('bench-load.json', JSON.stringify({ generatedBy: 'npm run bench:load', results }, null, 2));
console.log('wrote bench-load.json');
