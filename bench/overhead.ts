/**
 * `npm run bench:overhead [-- --quick]`: what a host app pays for running the module, measured
 * side by side in one run. The host is bench/overhead-host.ts, a Nest app with one JSON route of
 * its own, started N times with `ClustershazbotModule.forRoot()` (a cluster on loopback, LAN
 * profile) and N times without it (same script, same start, not members of anything).
 *
 * (a) Steady state: each process's CPU time (utime + stime from /proc) over a window after
 *     the cluster has converged, as a share of one core; mean and max per server, with and
 *     without the module, at N = 10 and N = 30; and the floor: N hosts without the module that
 *     send one plain HTTP request a second to a random other one (bench/floor-host.ts), what
 *     HTTP at SWIM's probe rate costs before any gossip logic.
 * (b) The host's own route under autocannon while the module's process is a member of the
 *     running cluster (the first size, N >= 10): the process with the module and one without
 *     take turns in rounds (ABBA order), each alone on core 0 while measured, the client and
 *     every other process on core 1. Throughput kept = the without-process's CPU per request
 *     over the with-process's (the figure machine noise moves least), and requests per second
 *     likewise.
 * (c) The same while one other member is SIGKILLed and restarted every 10 s (one kill in
 *     every round, at the same moment of each).
 *
 * Options: --quick (N = 10 only, short windows and rounds: a smoke test), --sizes 10,30,
 * --window <s>, --rounds <n> (pairs, default 15), --round-seconds <s> (default 2), --churn-rounds <n>, --churn-every <s>,
 * --platform express|fastify. Writes bench-overhead.json.
 */
import autocannon from 'autocannon';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster, type ServerHandle } from '../sample/local-cluster.js';
import { canPin, coreCount, coreSeconds, cpuSeconds, loadAverage, pin, rssBytes } from './process-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const hostScript = join(here, 'overhead-host.js');
const floorScript = join(here, 'floor-host.js');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const quick = args.includes('--quick');
const settings = {
  quick,
  sizes: option('--sizes', quick ? '10' : '10,30').split(',').map(Number),
  windowSeconds: Number(option('--window', quick ? '10' : '60')),
  settleSeconds: quick ? 3 : 10,
  warmUpSeconds: quick ? 2 : 5,
  rounds: Number(option('--rounds', quick ? '2' : '15')),
  roundSeconds: Number(option('--round-seconds', '2')),
  churnRounds: Number(option('--churn-rounds', quick ? '2' : '6')),
  churnEverySeconds: Number(option('--churn-every', '10')),
  platform: option('--platform', 'express'),
  connections: 10,
  pinned: canPin,
};
const GOALS = { cpuShare: 0.01, throughputKept: 0.97 };
const allCores = `0-${coreCount - 1}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const percent = (share: number) => `${(share * 100).toFixed(2)} %`;
const fixed = (value: number, digits = 2) => value.toFixed(digits);
const spread = (values: number[], digits = 3) => `${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)}`;
const stamp = () => `load average ${loadAverage()} (1, 5, 15 min)`;

type Stats = Record<string, number>;

async function moduleStats(server: ServerHandle): Promise<Stats> {
  const res = await fetch(`${server.baseUrl}bench/module-stats`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${server.name}: module-stats answered ${res.status}`);
  return (await res.json()) as Stats;
}

/** Per-counter difference, summed over servers. */
function countersBetween(before: Stats[], after: Stats[]): Stats {
  const total: Stats = {};
  after.forEach((stats, i) => {
    for (const [key, value] of Object.entries(stats)) if (typeof value === 'number') total[key] = (total[key] ?? 0) + value - (before[i][key] ?? 0);
  });
  return total;
}

/**
 * N hosts with the module, a cluster from one seed; once it has converged, N without. The two
 * sets start the same way, one after the other, so the machine starts half as many processes at
 * once (at N = 30 a loaded machine otherwise takes minutes).
 */
async function startHosts(n: number): Promise<{ cluster: LocalCluster; members: ServerHandle[]; bare: ServerHandle[]; floor: ServerHandle[]; convergedSeconds: number }> {
  // the LAN profile as a production server runs it: LocalCluster's own defaults (0.5 s rounds, 1 s timeout) are the tests'
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '30', SHAZBOT_REQUEST_TIMEOUT: '5', OVERHEAD_PLATFORM: settings.platform });
  const members: ServerHandle[] = [];
  const bare: ServerHandle[] = [];
  for (let i = 1; i <= n; i++) members.push(await cluster.add(`with-${i}`, { script: hostScript, env: { OVERHEAD_MODULE: 'on' } }));
  for (let i = 1; i <= n; i++) bare.push(await cluster.add(`without-${i}`, { script: hostScript, env: { OVERHEAD_MODULE: 'off' } }));
  const floor: ServerHandle[] = [];
  for (let i = 1; i <= n; i++) floor.push(await cluster.add(`floor-${i}`, { script: floorScript }));
  for (const server of floor) server.env.FLOOR_PEERS = floor.map((s) => s.baseUrl).join(',');
  cluster.writeMasterList([members[0].baseUrl]);
  const timeoutMs = Math.max(120, 10 * n) * 1000;
  const started = Date.now();
  try {
    for (const server of members) cluster.start(server);
    await cluster.waitFor(`all ${n} members to see ${n} online (${stamp()})`, () => cluster.onlineCounts(members), (counts) => counts.every((c) => c === n), timeoutMs, 1000);
    const convergedSeconds = (Date.now() - started) / 1000;
    for (const server of [...bare, ...floor]) cluster.start(server);
    const answers = (s: ServerHandle) => fetch(`${s.baseUrl}products`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    await cluster.waitFor(`all ${2 * n} hosts without the module to answer (${stamp()})`, () => Promise.all([...bare, ...floor].map(answers)), (ok) => ok.every(Boolean), timeoutMs, 1000);
    return { cluster, members, bare, floor, convergedSeconds };
  } catch (error) {
    await cluster.stopAll('SIGKILL');
    throw error;
  }
}

/** (a): every process's share of one core over the window. */
async function steadyState(n: number, cluster: LocalCluster, members: ServerHandle[], bare: ServerHandle[], floor: ServerHandle[]) {
  // the joins' changes drain from the queues first, and the 2N hosts started after them finish
  // starting (Nest's start-up is about a second of CPU each: at N = 30 a 10 s pause left the
  // machine loaded through the window)
  await sleep((settings.settleSeconds + (settings.quick ? 0 : n)) * 1000);
  const statsBefore = await Promise.all(members.map(moduleStats));
  const pids = [...members, ...bare, ...floor].map((s) => s.child!.pid!);
  const cpuBefore = pids.map(cpuSeconds);
  const t0 = performance.now();
  await sleep(settings.windowSeconds * 1000);
  const cpuAfter = pids.map(cpuSeconds);
  const elapsed = (performance.now() - t0) / 1000;
  const rss = pids.map(rssBytes);
  const counters = countersBetween(statsBefore, await Promise.all(members.map(moduleStats)));
  const counts = await cluster.onlineCounts(members);
  const share = pids.map((_, i) => (cpuAfter[i] - cpuBefore[i]) / elapsed);
  const withShares = share.slice(0, n);
  const withoutShares = share.slice(n, 2 * n);
  const floorShares = share.slice(2 * n);
  const baseline = mean(withoutShares);
  const perServer = (key: string) => (counters[key] ?? 0) / n / elapsed;
  const messagesPerSecond = perServer('probesSent') + perServer('pushesSent') + perServer('rounds');
  const cost = { mean: mean(withShares) - baseline, max: Math.max(...withShares) - baseline };
  return {
    n,
    windowSeconds: +elapsed.toFixed(1),
    with: { mean: mean(withShares), max: Math.max(...withShares), perServer: withShares, rssMegabytes: mean(rss.slice(0, n)) / 2 ** 20 },
    without: { mean: baseline, max: Math.max(...withoutShares), perServer: withoutShares, rssMegabytes: mean(rss.slice(n, 2 * n)) / 2 ** 20 },
    moduleCost: cost,
    /** Plain HTTP at the probe rate, − the mean without: the part of the module's cost that is HTTP itself. */
    floorCost: { mean: mean(floorShares) - baseline, max: Math.max(...floorShares) - baseline, perServer: floorShares },
    goalMet: cost.max <= GOALS.cpuShare,
    perServerPerSecond: {
      probesSent: perServer('probesSent'),
      pushesSent: perServer('pushesSent'),
      syncRounds: perServer('rounds'),
      suspicionsRaised: perServer('suspicionsRaised'),
    },
    /** The module's CPU per message a server sent, both ends' work (each server answers about as many as it sends). */
    cpuMicrosPerMessage: messagesPerSecond > 0 ? (cost.mean * 1e6) / messagesPerSecond : Number.NaN,
    suspicionsInWindow: counters.suspicionsRaised ?? 0,
    allStillSeeAll: counts.every((c) => c === n),
    load: loadAverage(),
  };
}

interface Round {
  requestsPerSecond: number;
  cpuMicrosPerRequest: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Share of core 0's time spent on anything but the measured server (other processes, interrupts), and stolen by the hypervisor. */
  core0OtherShare: number;
  core0StealShare: number;
}

/** One round of the host's route on one process, that process alone on core 0 (the other host of the pair moved to core 1). */
async function routeRound(measured: ServerHandle, other: ServerHandle, seconds: number, during?: () => Promise<void>): Promise<Round> {
  if (settings.pinned) {
    pin(other.child!.pid!, '1');
    pin(measured.child!.pid!, '0');
  }
  const pid = measured.child!.pid!;
  const cpu0 = cpuSeconds(pid);
  const core0 = coreSeconds(0);
  const t0 = performance.now();
  const load = autocannon({ url: `${measured.baseUrl}products`, connections: settings.connections, duration: seconds });
  await during?.();
  const result = await load;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const core1 = coreSeconds(0);
  return {
    requestsPerSecond: result.requests.total / elapsed,
    cpuMicrosPerRequest: (cpu * 1e6) / Math.max(1, result.requests.total),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    core0OtherShare: Math.max(0, core1.busy - core0.busy - cpu) / elapsed,
    core0StealShare: (core1.steal - core0.steal) / elapsed,
  };
}

/** Rounds in ABBA order; each pair's ratios, then medians and the spread over pairs. */
async function alternate(withModule: ServerHandle, without: ServerHandle, rounds: number, seconds: number, during?: () => Promise<void>) {
  const w: Round[] = [];
  const wo: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      w.push(await routeRound(withModule, without, seconds, during));
      wo.push(await routeRound(without, withModule, seconds, during));
    } else {
      wo.push(await routeRound(without, withModule, seconds, during));
      w.push(await routeRound(withModule, without, seconds, during));
    }
  }
  const keptRps = w.map((r, i) => r.requestsPerSecond / wo[i].requestsPerSecond);
  const keptCpu = w.map((r, i) => wo[i].cpuMicrosPerRequest / r.cpuMicrosPerRequest);
  const side = (runs: Round[]) => ({
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    requestsPerSecondRounds: runs.map((r) => Math.round(r.requestsPerSecond)),
    cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
    cpuMicrosPerRequestRounds: runs.map((r) => +r.cpuMicrosPerRequest.toFixed(1)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    core0OtherShareRounds: runs.map((r) => +r.core0OtherShare.toFixed(3)),
    core0StealShareRounds: runs.map((r) => +r.core0StealShare.toFixed(3)),
  });
  const all = [...w, ...wo];
  return {
    rounds,
    roundSeconds: seconds,
    with: side(w),
    without: side(wo),
    /** Throughput kept, from CPU per request: what the host keeps when its CPU is the limit. */
    keptByCpu: { median: median(keptCpu), rounds: keptCpu.map((k) => +k.toFixed(3)) },
    keptByRequestsPerSecond: { median: median(keptRps), rounds: keptRps.map((k) => +k.toFixed(3)) },
    goalMet: median(keptCpu) >= GOALS.throughputKept,
    /** Noise: core 0's time taken by anything but the measured server, and stolen by the hypervisor, over all rounds. */
    core0Other: { median: median(all.map((r) => r.core0OtherShare)), max: Math.max(...all.map((r) => r.core0OtherShare)) },
    core0Steal: { median: median(all.map((r) => r.core0StealShare)), max: Math.max(...all.map((r) => r.core0StealShare)) },
    load: loadAverage(),
  };
}

/** (b) and (c) on a running cluster: member 2 is the measured host (member 1 is the seed), bare host 2 its twin. */
async function hostRoute(n: number, cluster: LocalCluster, members: ServerHandle[], bare: ServerHandle[]) {
  const [measured, twin] = [members[1], bare[1]];
  const selfCount = async () => (await cluster.list(measured))?.online.length;
  if (settings.pinned) {
    pin(process.pid, '1'); // the client; processes started from now on (restarted members) inherit core 1
    // every running process (the floor's were stopped after (a))
    for (const server of cluster.servers) if (server.child?.exitCode === null && server.child.signalCode === null) pin(server.child.pid!, '1');
  }
  try {
    const before = await selfCount();
    if (before !== n) throw new Error(`the measured member sees ${before} online, not ${n}: not a member of a running cluster`);
    // warm-up, not counted: JIT, and each heap grown to its working size
    await routeRound(measured, twin, settings.warmUpSeconds);
    await routeRound(twin, measured, settings.warmUpSeconds);
    const steady = await alternate(measured, twin, settings.rounds, settings.roundSeconds);
    const steadyAfter = await selfCount();

    // (c): one other member (never the seed, never the measured one) killed and restarted in each round, 1 s in
    const victims = members.filter((s) => s !== measured && s !== members[0]);
    let kills = 0;
    const churn = async () => {
      await sleep(1000);
      const victim = victims[kills++ % victims.length];
      await cluster.signal(victim, 'SIGKILL');
      cluster.start(victim);
    };
    const statsBefore = await moduleStats(measured);
    const churned = await alternate(measured, twin, settings.churnRounds, settings.churnEverySeconds, churn);
    const seen = countersBetween([statsBefore], [await moduleStats(measured)]);
    const healed = Date.now();
    await cluster.waitFor(`every member to see ${n} online after the churn`, () => cluster.onlineCounts(members), (c) => c.every((x) => x === n), 120_000, 500);
    return {
      n,
      measuredIsMember: { before, after: steadyAfter },
      steady,
      churn: {
        ...churned,
        kills,
        /** What the measured member's module did meanwhile. */
        measuredMember: {
          declaredOffline: seen.declaredOffline ?? 0,
          refusalsConfirmed: seen.refusalsConfirmed ?? 0,
          suspicionsRaised: seen.suspicionsRaised ?? 0,
          probesSent: seen.probesSent ?? 0,
          pushesSent: seen.pushesSent ?? 0,
        },
        allSeeAllAgainAfterSeconds: +((Date.now() - healed) / 1000).toFixed(1),
      },
    };
  } finally {
    if (settings.pinned) pin(process.pid, allCores);
  }
}

// --- the run

const started = Date.now();
console.log('bench:overhead: what a host app pays for running clustershazbot');
console.log(`machine: ${coreCount} cores, Node ${process.version}, ${stamp()} at start (later readings count this run's own processes too)`);
console.log(
  `settings: ${settings.quick ? 'QUICK (smoke test, not figures) ' : ''}LAN profile (probe every 1 s, sync every 30 s, pushes every 0.2 s to 3 while changes wait), ` +
    `${settings.platform}, window ${settings.windowSeconds} s, ${settings.rounds} × 2 rounds of ${settings.roundSeconds} s, churn ${settings.churnRounds} × 2 rounds of ${settings.churnEverySeconds} s, ` +
    (settings.pinned ? 'measured server alone on core 0, client and every other process on core 1' : 'NOT PINNED (taskset or a second core missing): throughput figures carry the client\'s noise'),
);
const steadyResults: Awaited<ReturnType<typeof steadyState>>[] = [];
let routeResult: Awaited<ReturnType<typeof hostRoute>> | undefined;
let current: LocalCluster | undefined;
process.once('SIGINT', () => void (current?.stopAll('SIGKILL') ?? Promise.resolve()).then(() => process.exit(130)));

for (const n of settings.sizes) {
  console.log(`\nN = ${n}: starting ${n} hosts with the module, ${n} without and ${n} floor hosts (${stamp()})`);
  const { cluster, members, bare, floor, convergedSeconds } = await startHosts(n);
  current = cluster;
  try {
    console.log(`  every member saw ${n} online ${convergedSeconds.toFixed(1)} s after the start; the hosts without the module answer too; measuring ${settings.windowSeconds} s of steady state`);
    const steady = await steadyState(n, cluster, members, bare, floor);
    steadyResults.push(steady);
    // the floor is (a)'s alone: (b) and (c) run with the same processes as before it existed
    await Promise.all(floor.map((server) => cluster.signal(server, 'SIGKILL')));
    console.log(`  with ${percent(steady.with.mean)} mean, ${percent(steady.with.max)} max; without ${percent(steady.without.mean)} mean; floor ${percent(steady.floorCost.mean)} above that; ${steady.suspicionsInWindow} suspicions in the window (${stamp()})`);
    if (n === settings.sizes[0]) {
      console.log(`  the host's route, ${settings.rounds} × 2 rounds, then ${settings.churnRounds} × 2 under churn`);
      routeResult = await hostRoute(n, cluster, members, bare);
      console.log(`  done (${stamp()})`);
    }
  } finally {
    await cluster.stopAll('SIGKILL');
    current = undefined;
  }
}

// --- the figures

console.log(`\n(a) CPU of one server process in steady state, as a share of one core`);
console.log(`    utime + stime of every process from /proc over a ${settings.windowSeconds} s window after convergence; "module" = with − mean without`);
console.log(`    floor = hosts without the module sending one plain HTTP request a second to a random other (same stack, no signature, no validation, no protocol), − mean without`);
console.log(`    goal: the module costs at most ${percent(GOALS.cpuShare)} of a core per server (judged on the busiest server)\n`);
console.log('| N | with module: mean / max | without: mean / max | module: mean / max | floor: plain HTTP, mean / max | goal ≤ 1 % | sent per server per s: probes, pushes, syncs | µs CPU per message | RSS MB with / without |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const s of steadyResults) {
  const p = s.perServerPerSecond;
  console.log(
    `| ${s.n} | ${percent(s.with.mean)} / ${percent(s.with.max)} | ${percent(s.without.mean)} / ${percent(s.without.max)} | ${percent(s.moduleCost.mean)} / ${percent(s.moduleCost.max)} | ${percent(s.floorCost.mean)} / ${percent(s.floorCost.max)} | ` +
      `${s.goalMet ? 'met' : 'NOT MET'} | ${fixed(p.probesSent)}, ${fixed(p.pushesSent)}, ${fixed(p.syncRounds, 3)} | ${fixed(s.cpuMicrosPerMessage, 0)} | ${fixed(s.with.rssMegabytes, 0)} / ${fixed(s.without.rssMegabytes, 0)} |`,
  );
}
for (const s of steadyResults) {
  if (s.suspicionsInWindow || !s.allStillSeeAll) console.log(`    N = ${s.n}: NOT STEADY: ${s.suspicionsInWindow} suspicions in the window; all see all at its end: ${s.allStillSeeAll}`);
}

if (routeResult) {
  const r = routeResult;
  const line = (name: string, x: typeof r.steady) =>
    `| ${name} | ${Math.round(x.without.requestsPerSecond)} / ${Math.round(x.with.requestsPerSecond)} | ${fixed(x.without.cpuMicrosPerRequest, 1)} / ${fixed(x.with.cpuMicrosPerRequest, 1)} | ` +
    `**${fixed(x.keptByCpu.median, 3)}** (${spread(x.keptByCpu.rounds)}) | ${fixed(x.keptByRequestsPerSecond.median, 3)} (${spread(x.keptByRequestsPerSecond.rounds)}) | ${x.without.p99Ms} / ${x.with.p99Ms} | ${x.goalMet ? 'met' : 'NOT MET'} |`;
  console.log(`\n(b), (c) The host's own route (GET /products, ~1 KB of JSON) under autocannon, ${settings.connections} connections, ${settings.platform}`);
  console.log(`    the host with the module is a member of the running N = ${r.n} cluster (it saw ${r.measuredIsMember.before} online before, ${r.measuredIsMember.after} after);`);
  console.log(`    it and the same host without the module take turns in rounds (ABBA), ${settings.pinned ? 'each alone on core 0 while measured' : 'unpinned'}; medians over rounds, spread = min–max over pairs.`);
  console.log(`    kept (CPU) = CPU per request without ÷ with: the throughput kept when the host's CPU is the limit (from /proc; machine noise moves it least)`);
  console.log(`    goal: the host keeps at least ${GOALS.throughputKept} of its throughput (judged on kept (CPU))\n`);
  console.log('| load | req/s without / with | CPU µs per request without / with | kept (CPU), spread | kept (req/s), spread | p99 ms without / with | goal ≥ 0.97 |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(line(`(b) steady, ${r.steady.rounds} × 2 rounds of ${r.steady.roundSeconds} s`, r.steady));
  console.log(line(`(c) churn: a member killed and restarted every ${r.churn.roundSeconds} s, ${r.churn.rounds} × 2 rounds`, r.churn));
  const m = r.churn.measuredMember;
  console.log(
    `    under churn: ${r.churn.kills} kills; the measured member declared ${m.declaredOffline} offline (${m.refusalsConfirmed} by refusal), raised ${m.suspicionsRaised} suspicions, ` +
      `sent ${m.probesSent} probes and ${m.pushesSent} pushes; every member saw all ${r.n} online again ${r.churn.allSeeAllAgainAfterSeconds} s after the last round`,
  );
  for (const [name, x] of [['(b)', r.steady], ['(c)', r.churn]] as const) {
    console.log(
      `    noise in ${name}: core 0 busy with anything but the measured server ${percent(x.core0Other.median)} of the time (median round; max ${percent(x.core0Other.max)}), ` +
        `stolen by the hypervisor ${percent(x.core0Steal.median)} (max ${percent(x.core0Steal.max)})`,
    );
  }
  const failures = [r.steady, r.churn].reduce((s, x) => s + x.with.non2xx + x.with.errors + x.without.non2xx + x.without.errors, 0);
  console.log(`    ${failures} non-2xx responses or errors in all rounds`);
}
console.log(`\n${stamp()} at the end; the run took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
writeFileSync('bench-overhead.json', JSON.stringify({ generatedBy: `npm run bench:overhead${args.length ? ` -- ${args.join(' ')}` : ''}`, settings, goals: GOALS, steady: steadyResults, route: routeResult }, null, 2));
console.log('wrote bench-overhead.json');
