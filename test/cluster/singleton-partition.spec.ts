/**
 * The quorum guard under a real 3|2 partition: five sample Nest servers, each in its own
 * network namespace (test/reliability/namespace-lab.ts), running two cron singletons every
 * second: one with the default majority quorum, whose owner is placed on the minority side,
 * and the same job with `quorum: 'none'`. Split: the minority runs nothing once the split has
 * settled, the majority runs each fire exactly once; healed: exactly once again; never twice.
 * The unguarded job runs on both sides: the guard is what prevents the doubles.
 * Needs root and iproute2 (`.ci/run` installs it): without them this test fails, it does not skip.
 */
import { jest } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rendezvousOwner } from '../../lib/index.js';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { NamespaceLab } from '../reliability/namespace-lab.js';
import { allOnline } from '../support/offline-watcher.js';

jest.setTimeout(240_000);

const PROBE_S = 0.5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  job: string;
  fireTime: number;
  owner: string;
}

describe('a 3|2 partition between network namespaces', () => {
  const lab = new NamespaceLab();
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '0.5', SHAZBOT_PROBE_INTERVAL: String(PROBE_S), SHAZBOT_PROBE_TIMEOUT: '0.25' });
  const log = join(cluster.dir, 'runs.jsonl');

  afterAll(async () => {
    await cluster.stopAll();
    lab.destroy();
  });

  it('majority quorum: the minority runs 0 fires, the majority exactly one per fire, one again after healing; quorum none: doubles', async () => {
    expect({ rootWithIpNetns: NamespaceLab.available() }).toEqual({ rootWithIpNetns: true }); // run as root with iproute2 (`.ci/run` installs it)
    const sides: ('a' | 'b')[] = ['a', 'a', 'a', 'b', 'b'];
    lab.setup(sides);
    const urls = lab.hosts.map((h) => `http://${h.ip}:3000/`);
    const minorityUrls = urls.slice(3);
    // a job name whose owner, with all five up, is on the minority side: the split must take it away
    const guarded = Array.from({ length: 100 }, (_, i) => `partition-report-${i}`).find((name) => minorityUrls.includes(rendezvousOwner(`singleton:${name}`, urls)!))!;
    const unguarded = 'partition-report-unguarded';
    const servers: ServerHandle[] = [];
    for (let i = 0; i < sides.length; i++) {
      servers.push(
        await cluster.add(`${sides[i]}${i}`, {
          host: lab.hosts[i].ip,
          port: 3000,
          wrap: lab.wrap(i),
          env: { LISTEN_HOST: '0.0.0.0', DEMO_SINGLETON_LOG: log, DEMO_SINGLETON_NAME: guarded, DEMO_SINGLETON_UNGUARDED_NAME: unguarded },
          adminUrl: `http://${lab.hosts[i].adminIp}:3000/`,
        }),
      );
    }
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 90_000);
    const majority = servers.slice(0, 3);
    const minority = servers.slice(3);

    const runs = (job: string): Map<number, Run[]> => {
      const byFire = new Map<number, Run[]>();
      if (!existsSync(log)) return byFire;
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        const run = line ? (JSON.parse(line) as Run) : undefined;
        if (run?.job === job) byFire.set(run.fireTime, [...(byFire.get(run.fireTime) ?? []), run]);
      }
      return byFire;
    };
    const fires = (job: string, from: number, to: number) => {
      const byFire = runs(job);
      const out: { at: number; runs: Run[] }[] = [];
      for (let at = Math.ceil(from / 1000) * 1000; at < to; at += 1000) out.push({ at, runs: byFire.get(at) ?? [] });
      return out;
    };
    const onMinority = (r: Run) => minorityUrls.includes(r.owner);
    const crossOffline = () =>
      Promise.all(
        servers.map(async (s) => {
          const view = await cluster.list(s);
          const other = majority.includes(s) ? minority : majority;
          return other.every((o) => view?.offline.some((e) => e.baseUrl === o.baseUrl));
        }),
      );

    // converged: the guarded job runs on its minority owner, once per fire
    await cluster.waitFor('the guarded job running on its owner', async () => fires(guarded, Date.now() - 3000, Date.now() - 1000), (f) => f.length === 2 && f.every((x) => x.runs.length === 1), 60_000, 250);
    const before = Date.now() - 3000;
    expect(fires(guarded, before, Date.now() - 1000).every((f) => f.runs.length === 1 && onMinority(f.runs[0]))).toBe(true);

    const splitAt = Date.now();
    lab.partition();
    await cluster.waitFor('each side to mark the other offline', crossOffline, (v) => v.every(Boolean), 120_000, 250);
    const settledAt = Date.now() + 1000; // a fire under way when the last declaration landed still counts as the transition
    await sleep(8000);
    const healAt = Date.now();
    lab.heal();
    await allOnline(cluster, servers, 120_000);
    // healed and converged: past the hand-over delay (2 probe intervals) and the fire under way
    const convergedAt = Date.now() + 2 * PROBE_S * 1000 + 1000;
    await sleep(convergedAt - Date.now() + 8000);
    const end = Date.now() - 1000;

    const split = fires(guarded, settledAt, healAt);
    const healed = fires(guarded, convergedAt, end);
    const whole = fires(guarded, before, end);
    const unguardedSplit = fires(unguarded, settledAt, healAt);
    console.log(
      `singleton, 3|2 partition: split settled after ${((settledAt - 1000 - splitAt) / 1000).toFixed(1)} s; guarded: ${split.reduce((n, f) => n + f.runs.filter(onMinority).length, 0)} minority runs and ` +
        `${split.filter((f) => f.runs.filter((r) => !onMinority(r)).length !== 1).length} majority fires not run once over ${split.length} fires, ${whole.filter((f) => f.runs.length > 1).length} doubles from before the split to after healing, ` +
        `${whole.filter((f) => f.runs.length === 0).length} missed (transitions); unguarded: ${unguardedSplit.filter((f) => f.runs.length > 1).length} doubles over ${unguardedSplit.length} split fires`,
    );
    expect(split.length).toBeGreaterThanOrEqual(6);
    expect(split.flatMap((f) => f.runs.filter(onMinority))).toEqual([]);
    expect(split.filter((f) => f.runs.length !== 1)).toEqual([]);
    expect(healed.length).toBeGreaterThanOrEqual(6);
    expect(healed.filter((f) => f.runs.length !== 1)).toEqual([]);
    expect(whole.filter((f) => f.runs.length > 1)).toEqual([]);
    // without the guard each side has its own owner: every split fire runs twice
    expect(unguardedSplit.filter((f) => f.runs.length === 2).length).toBe(unguardedSplit.length);
  });
});
