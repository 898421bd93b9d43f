/**
 * `npm run bench:load`: autocannon sends signed gossip requests to one server, and the same
 * number of requests to a bare Nest endpoint of the same server answering a body of the same
 * size, in one run, on Express and on Fastify. Every request is signed afresh (replay
 * protection forbids reuse); the bare requests pay the same signing cost on the client, so
 * the ratio isolates the server's work. The server's CPU per request (from /proc) gives a
 * second ratio that holds even when the client, not the server, limits the rate. Writes
 * bench-load.json.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, signRequest } from 'clustershazbot';
import { freePort } from '../sample/local-cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const now = Date.now();
const body = { message: 'gossip', online: Array.from({ length: 10 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${20000 + i}/`, monitor: false, lastUpdate: now })) };
// as the library's own senders write it: the canonical JSON the signature covers
const text = canonicalJson(body);

/** CPU seconds the server process has used so far (user + system, from /proc; Linux clock ticks of 10 ms). */
function serverCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(url: string, path: string, sign: boolean, pid: number) {
  const cpuBefore = serverCpuSeconds(pid);
  const result = await autocannon({
    url,
    connections: 10,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request) => {
          const authorization = signRequest('bench-secret', { method: 'POST', path: '/clustershazbot/gossip', cluster: 'default', body, canonicalBody: text });
          return { ...request, body: text, headers: { 'content-type': 'application/json', ...(sign ? { authorization } : {}) } };
        },
      },
    ],
  });
  const cpu = serverCpuSeconds(pid) - cpuBefore;
  // server CPU per request: independent of whether the client or the server was the bottleneck
  return { requestsPerSecond: Math.round(result.requests.average), p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors, serverCpuMicrosPerRequest: Math.round((cpu * 1e6) / Math.max(1, result.requests.total)) };
}

const results: Record<string, unknown>[] = [];
for (const platform of ['express', 'fastify']) {
  const port = await freePort();
  const server = spawn(process.execPath, [join(here, 'load-server.js'), platform, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  try {
    const url = `http://127.0.0.1:${port}`;
    const pid = server.pid!;
    await run(url, '/bare', false, pid); // warm-up
    await run(url, '/clustershazbot/gossip', true, pid);
    const bare = await run(url, '/bare', false, pid);
    const gossip = await run(url, '/clustershazbot/gossip', true, pid);
    const row = {
      platform,
      seconds,
      connections: 10,
      bare,
      signedGossip: gossip,
      ratio: +(gossip.requestsPerSecond / bare.requestsPerSecond).toFixed(2),
      /** The same ratio from the server's CPU per request: what requests per second would be with the server as the only bottleneck. */
      cpuRatio: +(bare.serverCpuMicrosPerRequest / gossip.serverCpuMicrosPerRequest).toFixed(2),
    };
    console.log(JSON.stringify(row));
    results.push(row);
  } finally {
    server.kill('SIGKILL');
  }
}
writeFileSync('bench-load.json', JSON.stringify({ generatedBy: 'npm run bench:load', results }, null, 2));
console.log('wrote bench-load.json');
