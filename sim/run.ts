/**
 * `npm run sim [-- --sizes 10,100,1000,10000 --out sim-results.json]`: the failure detector and
 * dissemination on the real engine, simulated (virtual clock and network, seeded). Prints a
 * table and writes the figures as JSON. Figures are in probe intervals (1 s in the LAN profile).
 */
import { writeFileSync } from 'node:fs';
import { detection, disseminationRounds, falseOfflines, queueGrowth, steadyBytes } from './scenarios.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const sizes = arg('sizes', '10,100,1000,10000').split(',').map(Number);
const out = arg('out', 'sim-results.json');
/** `--bytes-only`: just the steady-state bytes (about 12 min and 8.5 GB at 10,000). */
const bytesOnly = args.includes('--bytes-only');
/** `--loss-only 0.1`: just the false offlines at that loss rate (the 10,000 row's slowest figure). */
const lossOnly = args.includes('--loss-only') ? Number(arg('loss-only', '0.1')) : undefined;
/** `--queue-growth 0.1`: suspicions per interval and piggyback queue depth under that loss, 30 intervals. */
const queueOnly = args.includes('--queue-growth') ? Number(arg('queue-growth', '0.1')) : undefined;
/** `--detection-only [--faults crash,host-lost]`: just the detection columns (one trial each at 10,000). */
const detectionOnly = args.includes('--detection-only');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)];

const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  if (bytesOnly) {
    const started = Date.now();
    const bytes = await steadyBytes({ size: n, seed: 500, seconds: 30, gossipIntervalMs: 30_000 });
    console.log(JSON.stringify({ n, bytesPerMessage: bytes.perMessage, bytesPerServerPerSecond: bytes.perServerPerSecond, pushPull: '30 s sync', wallSeconds: (Date.now() - started) / 1000 }));
    continue;
  }
  if (queueOnly !== undefined) {
    const started = Date.now();
    for (const row of await queueGrowth({ size: n, seed: 300, rounds: 30, lossRate: queueOnly, gossipIntervalMs: 30_000 })) console.log(JSON.stringify({ n, lossRate: queueOnly, ...row }));
    console.log(JSON.stringify({ n, wallSeconds: (Date.now() - started) / 1000, peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) }));
    continue;
  }
  if (detectionOnly) {
    const started = Date.now();
    const trials = n <= 100 ? 10 : n <= 1000 ? 3 : 1;
    const faults = arg('faults', 'crash,host-lost').split(',') as ('crash' | 'host-lost' | 'hang')[];
    for (const fault of faults) {
      const runs = [];
      for (let t = 0; t < trials; t++) runs.push(await detection({ size: n, seed: 200 + t, gossipIntervalMs: 30_000, fault }));
      console.log(JSON.stringify({ n, fault, first: runs.map((r) => r.first), all: runs.map((r) => r.all), falseOfflines: runs.reduce((a, r) => a + r.falseOfflines, 0) }));
    }
    console.log(JSON.stringify({ n, wallSeconds: (Date.now() - started) / 1000, peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) }));
    continue;
  }
  if (lossOnly !== undefined) {
    const started = Date.now();
    const rounds = n <= 100 ? 1000 : n <= 1000 ? 100 : 30;
    const count = await falseOfflines({ size: n, seed: 300, rounds, lossRate: lossOnly, gossipIntervalMs: 30_000 });
    console.log(JSON.stringify({ n, lossRate: lossOnly, rounds, falseOfflines: count, wallSeconds: (Date.now() - started) / 1000, peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) }));
    continue;
  }
  const started = Date.now();
  // anti-entropy (the digest-and-delta sync) every 30 s at every size: equal views cost ~450
  // bytes per sync whatever N (`npm run sim:state`), so 10,000 servers need no exception
  const gossipIntervalMs = 30_000;
  const trials = n <= 100 ? 10 : n <= 1000 ? 3 : 1;
  const lossRounds = n <= 100 ? 1000 : n <= 1000 ? 100 : 30;
  const base = { size: n, gossipIntervalMs };
  const dissemination: number[] = [];
  const first: number[] = [];
  const all: number[] = [];
  const lostFirst: number[] = [];
  const lostAll: number[] = [];
  let falseInDetection = 0;
  for (let t = 0; t < trials; t++) {
    dissemination.push(await disseminationRounds({ ...base, seed: 100 + t }));
    const d = await detection({ ...base, seed: 200 + t, fault: 'crash' });
    first.push(d.first);
    all.push(d.all);
    falseInDetection += d.falseOfflines;
    // the whole host gone: no refusal to go on, so the suspicion runs its course
    const lost = await detection({ ...base, seed: 200 + t, fault: 'host-lost' });
    lostFirst.push(lost.first);
    lostAll.push(lost.all);
    falseInDetection += lost.falseOfflines;
  }
  const loss: Record<string, number> = {};
  // 10 % loss at 10,000 servers takes 20 min and 15 GB on its own: it is measured with
  // `--sizes 10000 --queue-growth 0.1` (30 intervals, with the queue depths) instead
  const rates = n >= 10_000 ? [0, 0.01] : [0, 0.01, 0.1];
  for (const rate of rates) loss[`${rate * 100}%`] = await falseOfflines({ ...base, seed: 300, rounds: lossRounds, lossRate: rate });
  const starved = await falseOfflines({ ...base, seed: 400, rounds: lossRounds, starvedLagMs: 3000 });
  const bytes = await steadyBytes({ ...base, seed: 500, seconds: 30 });
  const row = {
    n,
    trials,
    disseminationRounds: median(dissemination),
    goalRounds: +(Math.log2(n) + 2).toFixed(1),
    detectFirstMedian: median(first),
    detectAllMedian: median(all),
    detectAllP99: p99(all),
    hostLostFirstMedian: median(lostFirst),
    hostLostAllMedian: median(lostAll),
    hostLostAllP99: p99(lostAll),
    memberlistSuspicionBound: 4 * Math.max(1, Math.log10(n)),
    falseOfflinesDuringDetection: falseInDetection,
    falseOfflinesByLoss: loss,
    lossRounds,
    falseOfflinesStarved: starved,
    bytesPerMessage: bytes.perMessage,
    bytesPerServerPerSecond: bytes.perServerPerSecond,
    pushPull: '30 s sync',
    wallSeconds: +((Date.now() - started) / 1000).toFixed(1),
    /** Peak resident memory of the process so far (sizes run in increasing order). */
    peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}

if (bytesOnly || lossOnly !== undefined || queueOnly !== undefined || detectionOnly) process.exit(0);

const table = [
  '| N | change reaches all (intervals, goal log2 N + 2) | process killed → offline, first / all, median (p99) | host lost → offline, first / all, median (p99) | memberlist suspicion min | false offlines: loss 0 / 1 / 10 % (intervals), starved | bytes per message | bytes per server per s | push-pull | wall s | peak RSS MB |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => {
    const loss = r.falseOfflinesByLoss as Record<string, number>;
    return `| ${r.n} | ${r.disseminationRounds} (${r.goalRounds}) | ${r.detectFirstMedian} / ${r.detectAllMedian} (${r.detectAllP99}) | ${r.hostLostFirstMedian} / ${r.hostLostAllMedian} (${r.hostLostAllP99}) | ${r.memberlistSuspicionBound} | ${['0%', '1%', '10%'].map((k) => loss[k] ?? '–').join(' / ')} (${r.lossRounds}), ${r.falseOfflinesStarved} | ${r.bytesPerMessage} | ${r.bytesPerServerPerSecond} | ${r.pushPull} | ${r.wallSeconds} | ${r.peakRssMB} |`;
  }),
];
console.log(`\n${table.join('\n')}`);
writeFileSync(out, JSON.stringify({ generatedBy: 'npm run sim', probeIntervalMs: 1000, results }, null, 2));
console.log(`\nwrote ${out}`);
