/**
 * Key/value state between real processes on loopback (the sample Nest app, which publishes
 * `started` and `load`, and a lease with DEMO_LEASE_SECONDS; and the sample Express app on
 * the plain-function API): a key set on one appears on all, expiry removes it from all, and a
 * restarted process replaces what its previous run published. Spread times are asserted
 * against the stated bounds (docs/failure-detection.md, "Stated bounds"; test/support/bounds.ts),
 * counted from when the writer listens: start-up (Nest, 2 shared cores) is not the protocol's.
 * Stopped by pid in afterAll.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_SECRET, LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { convergenceIntervals, expectWithin } from '../support/bounds.js';

jest.setTimeout(120_000);

type State = Record<string, Record<string, unknown>>;

/** The sample's default failure-detection profile (lan): the bounds are in these intervals. */
const PROBE_MS = 1000;

describe('key/value state across real processes', () => {
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '1' });
  const servers: ServerHandle[] = [];

  const stateOf = async (s: ServerHandle): Promise<State | undefined> => {
    try {
      const res = await cluster.signedFetch(s, 'GET', 'state');
      return res.ok ? ((await res.json()) as State) : undefined;
    } catch {
      return undefined;
    }
  };
  const everyState = () => Promise.all(servers.map(stateOf));

  beforeAll(async () => {
    for (let i = 1; i <= 3; i++) servers.push(await cluster.add(`state-${i}`, { env: i === 1 ? { DEMO_LEASE_SECONDS: '15', DEMO_KEY: 'zone=eu-west' } : {} }));
    servers.push(await cluster.add('state-express', { kind: 'express' }));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
  });

  afterAll(() => cluster.stopAll());

  it('a key set on one server appears on every server', async () => {
    const [first] = servers;
    // the keys are set at bootstrap, before each server listens: from the last one listening, a
    // key on every server is the cold-start convergence, 1 + log2 N + 2 intervals
    await cluster.waitFor('every server to listen', everyState, (states) => states.every((st) => st !== undefined), 60_000, 50);
    const listeningAt = Date.now();
    await cluster.waitFor('zone and the lease everywhere', everyState, (states) => states.every((st) => st?.[first.baseUrl]?.zone === 'eu-west' && st?.[first.baseUrl]?.lease !== undefined), 30_000, 50);
    const spreadMs = Date.now() - listeningAt;
    console.log(`state: a key reached all ${servers.length} servers ${(spreadMs / 1000).toFixed(1)} s after the last one listened (bound ${convergenceIntervals(servers.length).toFixed(1)} intervals)`);
    expectWithin(`zone on all ${servers.length} servers, from the last one listening`, spreadMs, convergenceIntervals(servers.length), PROBE_MS);
    // every server publishes who it is, the Express one through the plain functions
    const express = servers[3].baseUrl;
    const states = await cluster.waitFor(
      'every server\'s own keys everywhere',
      everyState,
      (sts) => sts.every((st) => servers.slice(0, 3).every((s) => st?.[s.baseUrl]?.started !== undefined) && st?.[express]?.runtime !== undefined),
      30_000,
    );
    expect(states.every((st) => (st?.[express]?.runtime as { framework?: string }).framework === 'express')).toBe(true);
  });

  it('an operator reads it with the CLI, which signs the request', async () => {
    const cli = join(process.cwd(), 'dist', 'cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'state', servers[2].baseUrl], { env: { ...process.env, SHAZBOT_SECRET: DEMO_SECRET } });
    expect(stdout.startsWith('200 ')).toBe(true);
    expect((JSON.parse(stdout.slice(4)) as State)[servers[0].baseUrl].zone).toBe('eu-west');
    const refused = await promisify(execFile)(process.execPath, [cli, 'state', servers[2].baseUrl], { env: { ...process.env, SHAZBOT_SECRET: 'wrong' } }).catch((e: { stdout: string; code: number }) => e);
    expect(refused).toMatchObject({ code: 1, stdout: expect.stringMatching(/^401 /) });
  });

  it('expiry removes the key from every server', async () => {
    const [first] = servers;
    await cluster.waitFor('the lease gone everywhere', everyState, (states) => states.every((st) => st !== undefined && st[first.baseUrl]?.lease === undefined), 30_000);
    const states = await everyState();
    expect(states.every((st) => st?.[first.baseUrl]?.zone === 'eu-west')).toBe(true); // the rest stays
  });

  it('a SIGKILLed and restarted server replaces what its previous process published', async () => {
    const victim = servers[1];
    const before = (await stateOf(servers[0]))?.[victim.baseUrl]?.started as { pid: number };
    await cluster.signal(victim, 'SIGKILL');
    cluster.start(victim);
    const isNew = (st: State | undefined) => st !== undefined && st[victim.baseUrl]?.started !== undefined && (st[victim.baseUrl].started as { pid?: number }).pid !== before.pid;
    // the new process holds its key from bootstrap on: counted from when it answers, a rejoin
    await cluster.waitFor('the new process to listen', () => stateOf(victim), isNew, 60_000, 50);
    const listeningAt = Date.now();
    const states = await cluster.waitFor('the new process everywhere', everyState, (sts) => sts.every(isNew), 60_000, 50);
    const spreadMs = Date.now() - listeningAt;
    expect(new Set(states.map((st) => JSON.stringify(st?.[victim.baseUrl]?.started))).size).toBe(1);
    console.log(`state: the restarted process's key reached all ${servers.length} servers ${(spreadMs / 1000).toFixed(1)} s after it listened (bound ${convergenceIntervals(servers.length).toFixed(1)} intervals)`);
    expectWithin(`the restarted process's key on all ${servers.length} servers, from its listening`, spreadMs, convergenceIntervals(servers.length), PROBE_MS);
  });
});
