/**
 * `npm run bench:load`: autocannon sends signed gossip requests to one server, and the same
 * number of requests to a bare Nest endpoint of the same server answering a body of the same
 * size, in one run, on Express and on Fastify. Every request is signed afresh (replay
 * protection forbids reuse); the bare requests pay the same signing cost on the client, so
 * the ratio isolates the server's work. Writes bench-load.json.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest } from 'clustershazbot';
import { freePort } from '../sample/local-cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const now = Date.now();
const body = { message: 'gossip', online: Array.from({ length: 10 }, (_, i) => ({ baseUrl: `http://127.0.0.1:${20000 + i}/`, monitor: false, lastUpdate: now })) };
const text = JSON.stringify(body);

async function run(url: string, path: string, sign: boolean) {
  const result = await autocannon({
    url,
    connections: 10,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request) => {
          const authorization = signRequest('bench-secret', { method: 'POST', path: '/clustershazbot/gossip', cluster: 'default', body });
          return { ...request, body: text, headers: { 'content-type': 'application/json', ...(sign ? { authorization } : {}) } };
        },
      },
    ],
  });
  return { requestsPerSecond: Math.round(result.requests.average), p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

const results: Record<string, unknown>[] = [];
for (const platform of ['express', 'fastify']) {
  const port = await freePort();
  const server = spawn(process.execPath, [join(here, 'load-server.js'), platform, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  try {
    const url = `http://127.0.0.1:${port}`;
    await run(url, '/bare', false); // warm-up
    const bare = await run(url, '/bare', false);
    const gossip = await run(url, '/clustershazbot/gossip', true);
    const row = { platform, seconds, connections: 10, bare, signedGossip: gossip, ratio: +(gossip.requestsPerSecond / bare.requestsPerSecond).toFixed(2) };
    console.log(JSON.stringify(row));
    results.push(row);
  } finally {
    server.kill('SIGKILL');
  }
}
writeFileSync('bench-load.json', JSON.stringify({ generatedBy: 'npm run bench:load', results }, null, 2));
console.log('wrote bench-load.json');
