/**
 * `npm run bench:load`: autocannon sends signed gossip requests to one server, and as many to
 * a bare Nest endpoint of the same server answering a body of the same size, on Express and
 * on Fastify, each with and without Nest's `rawBody`. Every request is signed afresh (replay
 * protection forbids reuse); the bare requests pay the same signing cost on the client, so
 * the ratio isolates the server's work.
 *
 * Two more endpoints bound what any implementation could reach. The floor has the gossip
 * endpoint's shape (a guard, a pipe, the merge and the reply) with an empty guard and pipe:
 * the ratio no signature check or validation can beat. The signature floor puts the scheme's
 * cryptography alone in the guard (body hash and HMAC, compared; no time window, nonce,
 * bounds or validation): the ratio no guard that checks the signature can beat.
 *
 * The machine is small and noisy, so the endpoints take turns in short rounds and each figure
 * is the median over the rounds; each ratio is the median of the rounds' ratios. Where
 * `taskset` exists the server runs on core 0 and the client on core 1. The server's CPU time
 * per request (from /proc) gives a second ratio that holds even when the client, not the
 * server, limits the rate. Writes bench-load.json.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, signRequest } from 'clustershazbot';
import { freePort } from '../sample/local-cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const connections = 10;
const pinned = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

// the client on core 1, the server on core 0: re-run this script under taskset once
if (pinned && !process.env.BENCH_PINNED) {
  const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } });
  process.exit(child.status ?? 1);
}

const now = Date.now();
const body = { message: 'gossip', online: Array.from({ length: 10 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${20000 + i}/`, monitor: false, lastUpdate: now })) };
// as the library's own senders write it: the canonical JSON the signature covers
const text = canonicalJson(body);

/** CPU seconds the server process has used so far (user + system, from /proc; Linux clock ticks of 10 ms). */
function serverCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  serverCpuMicrosPerRequest: number;
}

async function run(url: string, path: string, pid: number, duration = seconds): Promise<Run> {
  const target = `${url}/`; // the server's base URL: signatures name the server they are for
  const cpuBefore = serverCpuSeconds(pid);
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
  const cpu = serverCpuSeconds(pid) - cpuBefore;
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
const round2 = (value: number) => +value.toFixed(2);

/** One endpoint's rounds, summed up: medians, and every failure counted. */
function summary(runs: Run[]): Run & { rounds: number[] } {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    serverCpuMicrosPerRequest: median(runs.map((r) => r.serverCpuMicrosPerRequest)),
    rounds: runs.map((r) => r.requestsPerSecond),
  };
}

const results: Record<string, unknown>[] = [];
for (const platform of ['express', 'fastify']) {
  for (const rawBody of [false, true]) {
    const port = await freePort();
    const command = [join(here, 'load-server.js'), platform, String(port), rawBody ? 'raw' : ''];
    const server = pinned ? spawn('taskset', ['-c', '0', process.execPath, ...command], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    try {
      const url = `http://127.0.0.1:${port}`;
      const pid = server.pid!; // taskset execs the server in place: same pid
      for (const path of ['/bare', '/floor', '/signature-floor', '/clustershazbot/gossip']) await run(url, path, pid, 2); // warm-up
      const bare: Run[] = [];
      const floor: Run[] = [];
      const signatureFloor: Run[] = [];
      const gossip: Run[] = [];
      for (let i = 0; i < rounds; i++) {
        bare.push(await run(url, '/bare', pid));
        floor.push(await run(url, '/floor', pid));
        signatureFloor.push(await run(url, '/signature-floor', pid));
        gossip.push(await run(url, '/clustershazbot/gossip', pid));
      }
      const perRound = (of: Run[], stat: (a: Run, b: Run) => number) => round2(median(of.map((r, i) => stat(r, bare[i]))));
      const row = {
        platform,
        rawBody,
        seconds,
        rounds,
        connections,
        pinned,
        bare: summary(bare),
        floor: summary(floor),
        signatureFloor: summary(signatureFloor),
        signedGossip: summary(gossip),
        ratio: perRound(gossip, (g, b) => g.requestsPerSecond / b.requestsPerSecond),
        /** The same ratio from the server's CPU per request: what requests per second would be with the server as the only bottleneck. */
        cpuRatio: perRound(gossip, (g, b) => b.serverCpuMicrosPerRequest / g.serverCpuMicrosPerRequest),
        floorRatio: perRound(floor, (f, b) => f.requestsPerSecond / b.requestsPerSecond),
        floorCpuRatio: perRound(floor, (f, b) => b.serverCpuMicrosPerRequest / f.serverCpuMicrosPerRequest),
        signatureFloorRatio: perRound(signatureFloor, (f, b) => f.requestsPerSecond / b.requestsPerSecond),
        signatureFloorCpuRatio: perRound(signatureFloor, (f, b) => b.serverCpuMicrosPerRequest / f.serverCpuMicrosPerRequest),
      };
      console.log(
        `${platform.padEnd(8)} rawBody ${String(rawBody).padEnd(5)} bare ${row.bare.requestsPerSecond} req/s ${row.bare.serverCpuMicrosPerRequest} µs | ` +
          `floor ${row.floor.requestsPerSecond} req/s ${row.floor.serverCpuMicrosPerRequest} µs | signature floor ${row.signatureFloor.requestsPerSecond} req/s ${row.signatureFloor.serverCpuMicrosPerRequest} µs | signed gossip ${row.signedGossip.requestsPerSecond} req/s ` +
          `p99 ${row.signedGossip.p99Ms} ms ${row.signedGossip.serverCpuMicrosPerRequest} µs | ratio ${row.ratio} (CPU ${row.cpuRatio}), floor ${row.floorRatio} (CPU ${row.floorCpuRatio}), signature floor ${row.signatureFloorRatio} (CPU ${row.signatureFloorCpuRatio})` +
          (row.signedGossip.non2xx || row.signedGossip.errors ? ` | ${row.signedGossip.non2xx} non-2xx, ${row.signedGossip.errors} errors` : ''),
      );
      results.push(row);
    } finally {
      server.kill('SIGKILL');
    }
  }
}
writeFileSync('bench-load.json', JSON.stringify({ generatedBy: 'npm run bench:load', results }, null, 2));
console.log('wrote bench-load.json');
