/**
 * `npm run bench:metrics`: the cost of one scrape of the module's metrics with N = 50 members
 * (goal: under 5 ms), against a baseline rendered in the same run: prom-client's default Node
 * process metrics (what most services already expose), in a registry of their own.
 * Prints the median of several batches, the ratio, and the machine-independent size of a scrape.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ClusterService, ClustershazbotModule } from 'clustershazbot';

const MEMBERS = 50;
const BATCHES = 15;
const PER_BATCH = 200;

async function timePerRender(registry: Registry): Promise<number> {
  for (let i = 0; i < PER_BATCH; i++) await registry.metrics(); // warm-up
  const batches: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < PER_BATCH; i++) await registry.metrics();
    batches.push(Number(process.hrtime.bigint() - started) / 1e6 / PER_BATCH);
  }
  return batches.sort((x, y) => x - y)[Math.floor(batches.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-bench-metrics-'));
  const masterList = join(dir, 'master.json');
  writeFileSync(masterList, JSON.stringify({ online: [], offline: [] }));
  const registry = new Registry();
  const app = await NestFactory.createApplicationContext(
    ClustershazbotModule.forRoot({
      secret: 'bench-secret',
      controlSecret: 'bench-control',
      baseUrl: 'http://127.0.0.1:9/',
      masterListUrl: pathToFileURL(masterList).href,
      failureDetection: 'off',
      gossipIntervalSeconds: 3600,
      useEnvironment: false,
      metrics: registry,
    }),
    { logger: ['error'] },
  );
  try {
    const cluster = app.get(ClusterService);
    const now = Date.now();
    const peers = Array.from({ length: MEMBERS - 1 }, (_, i) => ({ baseUrl: `http://10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:3000/`, monitor: false, lastUpdate: now - i }));
    cluster.receiveGossip({ message: 'gossip', online: peers.slice(0, 45), offline: peers.slice(45) });
    const view = cluster.view();
    const text = await registry.metrics();
    const baseline = new Registry();
    collectDefaultMetrics({ register: baseline });
    const baselineText = await baseline.metrics();

    const ours = await timePerRender(registry);
    const theirs = await timePerRender(baseline);
    const series = (t: string) => t.split('\n').filter((l) => l && !l.startsWith('#')).length;
    console.log(`view: ${view.online.length} online, ${view.suspect.length} suspect, ${view.offline.length} offline (N = ${MEMBERS})`);
    console.log(`clustershazbot metrics: ${series(text)} samples, ${text.length} bytes per scrape; render ${ours.toFixed(3)} ms (median of ${BATCHES} batches of ${PER_BATCH})`);
    console.log(`baseline, prom-client default process metrics: ${series(baselineText)} samples, ${baselineText.length} bytes; render ${theirs.toFixed(3)} ms`);
    console.log(`ratio: ${(ours / theirs).toFixed(2)}x the baseline; goal under 5 ms: ${ours < 5 ? 'met' : 'NOT met'}`);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
