/**
 * `npm run sim:state [-- --sizes 100,1000,10000 --spread-sizes 10,100,1000 --out sim-state-results.json]`:
 * key/value state and digest-and-delta sync, on the real engine. Prints tables and writes JSON.
 */
import { writeFileSync } from 'node:fs';
import { exchangeBytes, keyDissemination, stalenessUnderBudget } from './state-scenarios.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const sizes = arg('sizes', '100,1000,10000').split(',').map(Number);
const spreadSizes = arg('spread-sizes', '10,100,1000').split(',').map(Number);
const out = arg('out', 'sim-state-results.json');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const exchanges = [];
for (const size of sizes) {
  for (const keysPerServer of [0, 10]) {
    const row = await exchangeBytes({ size, keysPerServer, valueBytes: 100 });
    exchanges.push(row);
    console.log(JSON.stringify(row));
  }
}

const spread = [];
for (const size of spreadSizes) {
  const trials = size <= 100 ? 10 : size <= 1000 ? 3 : 1;
  const runs: number[] = [];
  for (let t = 0; t < trials; t++) runs.push(await keyDissemination({ size, seed: 600 + t }));
  const row = { n: size, trials, medianIntervals: median(runs), maxIntervals: Math.max(...runs), goal: +(Math.log2(size) + 2).toFixed(1) };
  spread.push(row);
  console.log(JSON.stringify(row));
}

const staleness = [];
for (const budget of [1024, 4096, 16_384]) {
  const row = await stalenessUnderBudget({ size: 100, seed: 700, budget, seconds: 60 });
  staleness.push(row);
  console.log(JSON.stringify(row));
}

console.log(`
Bytes per sync exchange (all legs, requests and answers), two servers holding views of N:
| N | keys per server | nothing pending | one membership change | one key change | HTTP requests with a change | page's full-list exchange |
|---|---|---|---|---|---|---|
${exchanges.map((r) => `| ${r.n} | ${r.keysPerServer} × 100 B | ${r.equal} | ${r.oneMemberChange} | ${r.oneKeyChange} | ${r.requestsWithChange} | ${r.fullList} |`).join('\n')}

Probe intervals until one key update reaches all N (goal log2 N + 2):
| N | median | max | goal | trials |
|---|---|---|---|---|
${spread.map((r) => `| ${r.n} | ${r.medianIntervals} | ${r.maxIntervals} | ${r.goal} | ${r.trials} |`).join('\n')}

Staleness, N = 100, every server rewrites a 100-byte key every interval (~${staleness[0].updateBytesPerSecond} B/s of new values cluster-wide):
| budget per message | median intervals behind | p99 | max | intervals to drain after writes stop |
|---|---|---|---|---|
${staleness.map((r) => `| ${r.budget} B | ${r.medianIntervals} | ${r.p99Intervals} | ${r.maxIntervals} | ${r.drainIntervals} |`).join('\n')}`);
writeFileSync(out, JSON.stringify({ generatedBy: 'npm run sim:state', probeIntervalMs: 1000, exchanges, spread, staleness }, null, 2));
console.log(`\nwrote ${out}`);
