/**
 * `npm run bench:peers [-- --sizes 10,30]`: the same scenario on clustershazbot, grapevine 1.0.6
 * and happn-swim 1.0.3, in one run, on loopback, with a 1 s interval: N processes start from
 * one seed; a state change spreads; one process is SIGKILLed. Writes bench-peers.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../sample/local-cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
type Impl = 'clustershazbot' | 'grapevine' | 'happn-swim';

interface Agent {
  id: string;
  child: ChildProcess;
  alive: Set<string>;
  failedAt: Map<string, number>;
  valueAt: Map<string, number>;
  wire: number;
  body: number;
  ready: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) return -1;
    await sleep(50);
  }
  return Date.now() - start;
}

async function runScenario(impl: Impl, n: number) {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  const ids = ports.map((p) => (impl === 'clustershazbot' ? `http://127.0.0.1:${p}/` : `127.0.0.1:${p}`));
  const dir = mkdtempSync(join(tmpdir(), 'bench-peers-'));
  const masterList = join(dir, 'master.json');
  writeFileSync(masterList, JSON.stringify({ online: [{ baseUrl: ids[0], monitor: false, lastUpdate: 0 }], offline: [] }));
  const script = join(here, 'agents', impl === 'clustershazbot' ? 'shazbot-agent.js' : impl === 'grapevine' ? 'grapevine-agent.js' : 'swim-agent.js');
  const agents: Agent[] = [];
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      PORT: String(ports[i]),
      SEEDS: i === 0 ? '' : ids[0],
      SHAZBOT_SECRET: 'bench-secret',
      SHAZBOT_CONTROL_SECRET: 'bench-control',
      SHAZBOT_BASE_URL: ids[i],
      SHAZBOT_MASTER_LIST: pathToFileURL(masterList).toString(),
      SHAZBOT_GOSSIP_INTERVAL: process.env.BENCH_PUSH_PULL ?? '30',
    };
    const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const agent: Agent = { id: ids[i], child, alive: new Set(), failedAt: new Map(), valueAt: new Map(), wire: 0, body: 0, ready: false };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: { ev: string; peer?: string; peers?: string[]; wire?: number; body?: number };
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (e.ev === 'ready') agent.ready = true;
      if (e.ev === 'members' && e.peers) agent.alive = new Set(e.peers.filter((p) => p !== agent.id));
      if (e.ev === 'alive' && e.peer && e.peer !== agent.id) agent.alive.add(e.peer);
      if (e.ev === 'failed' && e.peer) {
        agent.alive.delete(e.peer);
        if (!agent.failedAt.has(e.peer)) agent.failedAt.set(e.peer, Date.now());
      }
      if (e.ev === 'value' && e.peer && !agent.valueAt.has(e.peer)) agent.valueAt.set(e.peer, Date.now());
      if (e.ev === 'bytes') {
        agent.wire = e.wire ?? 0;
        agent.body = e.body ?? 0;
      }
    });
    agents.push(agent);
  }
  const result: Record<string, unknown> = { impl, n };
  try {
    let readyAt = -1;
    const cold = await until(() => {
      if (readyAt < 0 && agents.every((a) => a.ready)) readyAt = Date.now();
      return agents.every((a) => a.alive.size >= n - 1);
    }, 120_000);
    // process start-up (spawn until every process listens) is part of the cold start; shown apart
    result.allListeningSeconds = readyAt < 0 ? 'n/a' : +((readyAt - started) / 1000).toFixed(1);
    result.coldStartAllSeeAllSeconds = cold < 0 ? 'did not converge in 120 s' : +((Date.now() - started) / 1000).toFixed(1);
    await sleep(10_000); // settle
    const wire0 = agents.reduce((s, a) => s + a.wire, 0);
    const body0 = agents.reduce((s, a) => s + a.body, 0);
    await sleep(20_000);
    const wire = agents.reduce((s, a) => s + a.wire, 0) - wire0;
    const body = agents.reduce((s, a) => s + a.body, 0) - body0;
    result.bytesPerMemberPerSecond = Math.round(wire / n / 20);
    if (impl === 'clustershazbot') {
      result.bodyBytesPerMemberPerSecond = Math.round(body / n / 20);
      result.headerAndFramingBytesPerMemberPerSecond = Math.round((wire - body) / n / 20);
    }
    // a change on one member: a key set (setLocalState on both); happn-swim has no state to change
    const changer = agents[1];
    if (impl !== 'happn-swim') {
      const changedAt = Date.now();
      changer.child.stdin!.write('change\n');
      const spread = await until(() => agents.every((a) => a === changer || a.valueAt.has(changer.id)), 60_000);
      result.changeReachesAllSeconds = spread < 0 ? 'not within 60 s' : +((Date.now() - changedAt) / 1000).toFixed(1);
      result.change = 'setLocalState (key)';
    } else {
      result.changeReachesAllSeconds = 'n/a (no state API)';
    }
    // crash one member
    const victim = agents[n - 1];
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const others = agents.filter((a) => a !== victim);
    const all = await until(() => others.every((a) => a.failedAt.has(victim.id)), 90_000);
    const firsts = others.map((a) => a.failedAt.get(victim.id)).filter((t): t is number => t !== undefined);
    result.killedMarkedFailedByFirstSeconds = firsts.length ? +((Math.min(...firsts) - killedAt) / 1000).toFixed(1) : 'never';
    result.killedMarkedFailedByAllSeconds = all < 0 ? `not within 90 s (${firsts.length}/${others.length})` : +((Date.now() - killedAt) / 1000).toFixed(1);
    await sleep(5000);
    result.falseFailures = others.reduce((s, a) => s + [...a.failedAt.keys()].filter((p) => p !== victim.id).length, 0);
  } finally {
    for (const a of agents) a.child.kill('SIGKILL');
    await sleep(500);
  }
  return result;
}

const args = process.argv.slice(2);
const sizes = (args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '10,30').split(',').map(Number);
const impls = (args.includes('--impls') ? args[args.indexOf('--impls') + 1] : 'clustershazbot,grapevine,happn-swim').split(',') as Impl[];
const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  for (const impl of impls) {
    const r = await runScenario(impl, n);
    console.log(JSON.stringify(r));
    results.push(r);
  }
}
writeFileSync('bench-peers.json', JSON.stringify({ generatedBy: 'npm run bench:peers', results }, null, 2));
console.log('wrote bench-peers.json');
