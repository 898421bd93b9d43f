import { steadyBytes } from '/work/main/dist-sample/sim/scenarios.js';
const t = Date.now();
const b = await steadyBytes({ size: 10000, seed: 500, seconds: 30, gossipIntervalMs: 30000 });
console.log(JSON.stringify({ n: 10000, ...b, wallSeconds: (Date.now() - t) / 1000, peakRssMB: Math.round(process.resourceUsage().maxRSS * 1024 / 1e6) }));
