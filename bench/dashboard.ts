/**
 * `npm run bench:dashboard [-- --runs 5 --size 3]`: the issue's goal "the dashboard shows a
 * killed server within the detection bound + 1 s", measured as an operator sees it. Sample
 * servers on loopback (LAN profile, probe interval 1 s), the built CLI's dashboard, and Debian's
 * Chromium showing the page. Each run SIGKILLs one server (never the dashboard's entry) and
 * times, from the kill: the entry server's own list showing it offline (polled directly), and
 * the page showing it offline. Then it restarts the server and waits for the page to show it
 * online again. Prints each run and the summary; about 15 s per run. Under a heavy load the
 * servers' timers run late, Lifeguard raises their health score and the fast path for a killed
 * process waits: each run prints the load average.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEMO_SECRET, LocalCluster, type ServerHandle } from '../sample/local-cluster.js';
import { killedProcessBoundMs, launchChromium, startDashboard, whenShown } from './dashboard-session.js';

const PROBE_INTERVAL_SECONDS = 1;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, size: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const size = Number(values.size);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(size) || size < 3) throw new Error('--runs takes a positive integer, --size an integer of at least 3');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const cluster = new LocalCluster({ SHAZBOT_FAILURE_DETECTION: 'lan', SHAZBOT_PROBE_INTERVAL: String(PROBE_INTERVAL_SECONDS) });
const servers: ServerHandle[] = [];
let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

async function main(): Promise<void> {
  for (let i = 0; i < size; i++) servers.push(await cluster.add(`s${i}`));
  cluster.writeMasterList([servers[0].baseUrl]);
  servers.forEach((s) => cluster.start(s));
  await cluster.waitFor(`all ${size} online`, () => cluster.onlineCounts(), (c) => c.every((n) => n === size), 60_000);
  dashboard = await startDashboard(servers[0].baseUrl, { SHAZBOT_SECRET: DEMO_SECRET });
  browser = await launchChromium();
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(dashboard.url);

  const boundMs = killedProcessBoundMs(size, PROBE_INTERVAL_SECONDS);
  console.log(`dashboard bench: N = ${size}, probe interval ${PROBE_INTERVAL_SECONDS} s, dashboard refresh 1 s; bound for a killed process ${boundMs / 1000} s, goal ${(boundMs + 1000) / 1000} s`);
  const pageMs: number[] = [];
  const serverMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const victim = servers[1 + (run % (size - 1))];
    await whenShown(page, victim.baseUrl, 'online', Date.now(), 60_000);
    // every server has probed it since it came back (an established member), and start-up load has passed
    await sleep(5_000 * PROBE_INTERVAL_SECONDS);
    const killedAt = Date.now();
    await cluster.signal(victim, 'SIGKILL');
    const [onServer, onPage] = await Promise.all([
      cluster.waitFor(`${victim.name} offline on the entry server`, () => cluster.list(servers[0], 1000), (v) => !!v?.offline.some((e) => e.baseUrl === victim.baseUrl), boundMs + 30_000, 20).then(() => Date.now() - killedAt),
      whenShown(page, victim.baseUrl, 'offline', killedAt, boundMs + 30_000),
    ]);
    serverMs.push(onServer);
    pageMs.push(onPage);
    console.log(`  run ${run + 1}: ${victim.name} offline on the entry server after ${(onServer / 1000).toFixed(2)} s, on the page after ${(onPage / 1000).toFixed(2)} s (load average ${loadavg()[0].toFixed(1)})`);
    cluster.start(victim);
  }
  const worst = Math.max(...pageMs);
  console.log(
    `dashboard bench: page shows a killed server offline after median ${(median(pageMs) / 1000).toFixed(2)} s, max ${(worst / 1000).toFixed(2)} s ` +
      `(entry server's own view: median ${(median(serverMs) / 1000).toFixed(2)} s; page lag median ${(median(pageMs.map((p, i) => p - serverMs[i])) / 1000).toFixed(2)} s); ` +
      `goal ${(boundMs + 1000) / 1000} s: ${worst <= boundMs + 1000 ? 'met' : 'NOT met'} in ${runs} runs; console errors: ${errors.length}`,
  );
}

try {
  await main();
} finally {
  await browser?.close();
  await dashboard?.stop();
  await cluster.stopAll();
}
