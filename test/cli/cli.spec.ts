/**
 * The operators' CLI as a real process (dist/cli.js) against real sample servers on loopback:
 * members (table, JSON, filters), drain and undrain with their exit codes (also through a
 * tunnel: a loopback proxy on another port), watch, and the errors an operator meets (wrong
 * secret, another cluster, unreachable server, bad URL).
 */
import { jest } from '@jest/globals';
import { createServer, type Socket } from 'node:net';
import { DEMO_CONTROL_SECRET, DEMO_SECRET, freePort, LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';
import { allOnline } from '../support/offline-watcher.js';
import { LoopbackProxy } from './loopback-proxy.js';
import { parseTable, runCli, spawnCli } from './run-cli.js';

jest.setTimeout(180_000);

const COMMANDS = ['members', 'drain', 'undrain', 'watch', 'dashboard', 'list', 'state', 'control', 'sign'];
const SECRETS = { SHAZBOT_SECRET: DEMO_SECRET, SHAZBOT_CONTROL_SECRET: DEMO_CONTROL_SECRET };

describe('clustershazbot CLI against real servers', () => {
  const cluster = new LocalCluster();
  const servers: ServerHandle[] = [];

  /** Resolves once every server shows `target` in `status`. */
  const statusEverywhere = (target: ServerHandle, status: 'online' | 'offline') =>
    cluster.waitFor(
      `${target.name} ${status} everywhere`,
      () => Promise.all(servers.map((s) => cluster.list(s))),
      (views) => views.every((v) => v?.[status === 'online' ? 'online' : 'offline'].some((e) => e.baseUrl === target.baseUrl)),
      30_000,
    );

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await cluster.add(`s${i}`));
    cluster.writeMasterList([servers[0].baseUrl]);
    servers.forEach((s) => cluster.start(s));
    await allOnline(cluster, servers, 60_000);
  });

  afterAll(() => cluster.stopAll());

  it('--help works for every command, on stdout with exit code 0', async () => {
    const overview = await runCli(['--help']);
    expect(overview.code).toBe(0);
    for (const name of COMMANDS) expect(overview.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const name of COMMANDS) {
      for (const args of name === 'members' ? [[name, '--help'], [name, '-h'], ['help', name]] : [[name, '--help']]) {
        const run = await runCli(args);
        expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
        expect(run.stdout.startsWith(`usage: clustershazbot ${name} `)).toBe(true);
        expect(run.stdout).toContain('exit codes:');
      }
    }
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('usage: clustershazbot <command>');
  });

  it('members prints a table like serf members: address, status, monitor, age, declared by, keys', async () => {
    const run = await runCli(['members', servers[1].baseUrl], SECRETS);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const rows = parseTable(run.stdout);
    expect(Object.keys(rows[0])).toEqual(['ADDRESS', 'STATUS', 'MONITOR', 'LAST UPDATE', 'DECLARED BY', 'KEYS']);
    expect(rows.map((r) => r.ADDRESS)).toEqual(servers.map((s) => s.baseUrl).sort());
    for (const row of rows) {
      expect(row).toMatchObject({ STATUS: 'online', MONITOR: 'no', 'DECLARED BY': '-' });
      expect(row['LAST UPDATE']).toMatch(/^\d+(s|m\d\ds) ago$/);
      expect(Number(row.KEYS)).toBeGreaterThanOrEqual(1); // the sample publishes its start and load
    }
  });

  it('members --format json and --status filters', async () => {
    const json = await runCli(['members', servers[0].baseUrl, '--format', 'json'], SECRETS);
    expect(json.code).toBe(0);
    const { members } = JSON.parse(json.stdout) as { members: { address: string; status: string; monitor: boolean; lastUpdate: number; ageSeconds: number; stateKeys: number }[] };
    expect(members).toHaveLength(3);
    for (const m of members) {
      expect(m).toEqual({ address: expect.any(String), status: 'online', monitor: false, lastUpdate: expect.any(Number), ageSeconds: expect.any(Number), stateKeys: expect.any(Number) });
      expect(m.ageSeconds).toBeGreaterThanOrEqual(0);
    }
    const online = await runCli(['members', servers[0].baseUrl, '--format', 'json', '--status', 'online'], SECRETS);
    expect((JSON.parse(online.stdout) as { members: unknown[] }).members).toHaveLength(3);
    const down = await runCli(['members', servers[0].baseUrl, '--status', 'suspect,offline'], SECRETS);
    expect(down.code).toBe(0);
    expect(parseTable(down.stdout)).toEqual([]); // the header alone
    const bad = await runCli(['members', servers[0].baseUrl, '--status', 'dead'], SECRETS);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status takes online, suspect, offline');
    const badFormat = await runCli(['members', servers[0].baseUrl, '--format', 'yaml'], SECRETS);
    expect(badFormat.code).toBe(2);
  });

  it('drain takes a server offline and waits until every member shows it; undrain brings it back', async () => {
    const target = servers[2];
    const drained = await runCli(['drain', target.baseUrl, '--timeout', '30'], SECRETS);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toMatch(new RegExp(`^drained ${target.baseUrl}: offline on all 3 reachable members after \\d+\\.\\d s\\n$`));
    expect(drained.stderr).toMatch(/^drain .*: offline on \d of 3 reachable members, \d+\.\d s$/m); // the progress line
    // it did not stop early: every server already shows it offline
    const views = await Promise.all(servers.map((s) => cluster.list(s)));
    expect(views.every((v) => v?.offline.some((e) => e.baseUrl === target.baseUrl))).toBe(true);
    const offline = parseTable((await runCli(['members', servers[0].baseUrl, '--status', 'offline'], SECRETS)).stdout);
    expect(offline).toEqual([expect.objectContaining({ ADDRESS: target.baseUrl, STATUS: 'offline', 'DECLARED BY': 'itself' })]);

    const undrained = await runCli(['undrain', target.baseUrl, '--timeout', '30'], SECRETS);
    expect(undrained.code).toBe(0);
    expect(undrained.stdout).toMatch(new RegExp(`^undrained ${target.baseUrl}: online on all 3 reachable members`));
    const back = await Promise.all(servers.map((s) => cluster.list(s)));
    expect(back.every((v) => v?.online.some((e) => e.baseUrl === target.baseUrl))).toBe(true);
  });

  it('drain exits with 4 and names who lags when the change is not confirmed before --timeout', async () => {
    // the server is reached through a tunnel that drops once the control request has passed:
    // it goes offline, but cannot confirm it to the CLI
    const target = servers[0];
    const tunnel = await LoopbackProxy.start(target.baseUrl);
    tunnel.dropAfter((req) => req.method === 'POST' && req.url === '/clustershazbot/control');
    try {
      const run = await runCli(['drain', tunnel.url, '--member', target.baseUrl, '--timeout', '1.5'], SECRETS);
      expect(run.code).toBe(4);
      expect(run.stderr).toContain(`error: drain ${target.baseUrl} not confirmed after`);
      expect(run.stderr).toContain(`${tunnel.url} (the server itself) did not answer`);
      expect(tunnel.passed).toEqual(['GET /clustershazbot/list 200', 'POST /clustershazbot/control 200']);
    } finally {
      await tunnel.close();
    }
    expect((await runCli(['undrain', target.baseUrl], SECRETS)).code).toBe(0);
    await statusEverywhere(target, 'online');
  });

  it('through a tunnel: --member signs for the server\'s own base URL; without it, a 401 that says to pass --member', async () => {
    const target = servers[2];
    const tunnel = await LoopbackProxy.start(target.baseUrl);
    try {
      // signed for the tunnel's URL, which the server does not take for its own: refused, explained, nothing drained
      const unsigned = await runCli(['drain', tunnel.url, '--timeout', '30'], SECRETS);
      expect(unsigned.code).toBe(1);
      expect(unsigned.stdout).toBe('');
      expect(unsigned.stderr).toContain(`error: ${tunnel.url} refused the signature (401 Unauthorized): SHAZBOT_SECRET holds none of its secrets; `);
      expect(unsigned.stderr).toContain(`or ${tunnel.url} is not the server's own base URL (SHAZBOT_BASE_URL), which a signature must name: through a tunnel or proxy, pass --member <the server's base URL>`);
      expect(unsigned.stderr).not.toMatch(/^\s+at /m); // one line, no stack trace
      expect(tunnel.passed).toEqual(['GET /clustershazbot/list 401']);
      const list = await runCli(['list', tunnel.url], SECRETS);
      expect(list.code).toBe(1);
      expect(list.stdout).toMatch(/^401 /);
      expect(list.stderr).toContain('pass --member <the server\'s base URL>');
      expect((await cluster.list(servers[0]))?.online.some((e) => e.baseUrl === target.baseUrl)).toBe(true);

      // --member naming another server: refused at the first read, before the control request
      const wrong = await runCli(['drain', tunnel.url, '--member', servers[1].baseUrl], SECRETS);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`error: ${tunnel.url} refused the signature made for ${servers[1].baseUrl} (401 Unauthorized)`);
      expect(wrong.stderr).toContain(`or ${servers[1].baseUrl} (--member) is not that server's own base URL (SHAZBOT_BASE_URL)`);
      expect(tunnel.passed.filter((r) => r.startsWith('POST'))).toEqual([]);

      // the reads through the tunnel, signed for the server's own base URL
      const members = await runCli(['members', tunnel.url, '--member', target.baseUrl], SECRETS);
      expect(members).toMatchObject({ code: 0, stderr: '' });
      expect(parseTable(members.stdout).map((r) => r.ADDRESS)).toEqual(servers.map((s) => s.baseUrl).sort());
      const state = await runCli(['state', tunnel.url, '--member', target.baseUrl], SECRETS);
      expect(state.code).toBe(0);
      expect(state.stdout).toMatch(/^200 \{/);

      tunnel.passed.length = 0;
      const drained = await runCli(['drain', tunnel.url, '--member', target.baseUrl, '--timeout', '30'], SECRETS);
      expect(drained).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^drained ${target.baseUrl}: offline on all 3 reachable members after`)) });
      expect(tunnel.passed).toContain('POST /clustershazbot/control 200'); // the control request went through the tunnel
      expect(tunnel.passed.every((r) => r.endsWith(' 200'))).toBe(true);
      const views = await Promise.all(servers.map((s) => cluster.list(s)));
      expect(views.every((v) => v?.offline.some((e) => e.baseUrl === target.baseUrl))).toBe(true);

      const undrained = await runCli(['undrain', tunnel.url, '--member', target.baseUrl, '--timeout', '30'], SECRETS);
      expect(undrained).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^undrained ${target.baseUrl}: online on all 3 reachable members after`)) });
      const back = await Promise.all(servers.map((s) => cluster.list(s)));
      expect(back.every((v) => v?.online.some((e) => e.baseUrl === target.baseUrl))).toBe(true);

      // the raw control command through the tunnel
      const control = await runCli(['control', tunnel.url, '--online', '--member', target.baseUrl], SECRETS);
      expect(control).toMatchObject({ code: 0, stdout: '200 {"success":true}\n' });
    } finally {
      await tunnel.close();
      if ((await cluster.list(target))?.offline.some((e) => e.baseUrl === target.baseUrl)) await runCli(['undrain', target.baseUrl], SECRETS);
    }
  });

  it('watch prints membership changes as they happen, and stops with exit code 0 on Ctrl-C', async () => {
    const watcher = spawnCli(['watch', servers[0].baseUrl, '--interval', '0.3'], SECRETS);
    let stdout = '';
    let stderr = '';
    watcher.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    watcher.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    try {
      await cluster.waitFor('the watch header', async () => stderr, (s) => s.includes('watching'), 20_000, 50);
      expect(stderr).toContain(`watching ${servers[0].baseUrl}: 3 members (3 online, 0 suspect, 0 offline); polling GET /clustershazbot/list every 0.3 s`);
      const target = servers[1];
      expect((await runCli(['control', target.baseUrl, '--offline'], SECRETS)).code).toBe(0);
      await cluster.waitFor('the offline line', async () => stdout, (s) => s.includes(`${target.baseUrl}  online -> offline (by itself)`), 20_000, 50);
      expect((await runCli(['control', target.baseUrl, '--online'], SECRETS)).code).toBe(0);
      await cluster.waitFor('the online line', async () => stdout, (s) => s.includes(`${target.baseUrl}  offline -> online`), 20_000, 50);
      expect(stdout.split('\n').filter(Boolean).every((line) => /^\d{4}-\d\d-\d\dT[\d:.]+Z  http:\/\/127\.0\.0\.1:\d+\/  \S+ -> \S+/.test(line))).toBe(true);
    } finally {
      watcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('a wrong secret is refused with a clear error and exit code 1; the secret is never printed', async () => {
    const members = await runCli(['members', servers[0].baseUrl], { SHAZBOT_SECRET: 'not-the-cluster-secret' });
    expect(members.code).toBe(1);
    expect(members.stdout).toBe('');
    expect(members.stderr).toContain(`error: ${servers[0].baseUrl} refused the signature (401 Unauthorized): SHAZBOT_SECRET holds none of its secrets`);
    const drain = await runCli(['drain', servers[0].baseUrl], { SHAZBOT_SECRET: DEMO_SECRET, SHAZBOT_CONTROL_SECRET: 'not-the-control-secret' });
    expect(drain.code).toBe(1);
    expect(drain.stderr).toContain('SHAZBOT_CONTROL_SECRET holds none of its secrets');
    // the raw commands keep their output ("<status> <body>") and exit code
    const list = await runCli(['list', servers[0].baseUrl], { SHAZBOT_SECRET: 'not-the-cluster-secret' });
    expect(list.code).toBe(1);
    expect(list.stdout).toMatch(/^401 /);
    expect(list.stderr).toContain('refused the signature (401 Unauthorized)');
    for (const run of [members, drain, list]) {
      for (const secret of ['not-the-cluster-secret', 'not-the-control-secret', DEMO_SECRET, DEMO_CONTROL_SECRET]) expect(run.stdout + run.stderr).not.toContain(secret);
    }
    // nothing was drained
    expect((await cluster.list(servers[0]))?.online.some((e) => e.baseUrl === servers[0].baseUrl)).toBe(true);
  });

  it('a request signed for another cluster gets 403 and says which variable to set', async () => {
    const run = await runCli(['members', servers[0].baseUrl], { ...SECRETS, SHAZBOT_CLUSTER: 'staging' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('belongs to another cluster (403 Forbidden): the request was signed for cluster "staging"; set SHAZBOT_CLUSTER');
  });

  it('an unreachable server, a bad URL, a missing secret or an unknown option: a one-line error and its exit code', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}/`;
    for (const command of ['members', 'drain', 'watch', 'dashboard', 'list']) {
      const run = await runCli([command, nobody, ...(command === 'dashboard' ? ['--port', '0'] : [])], SECRETS);
      expect({ command, code: run.code }).toEqual({ command, code: 3 });
      expect(run.stderr).toContain(`error: cannot reach ${nobody}: connection refused`);
    }
    const badUrl = await runCli(['members', 'ftp://10.0.0.5/'], SECRETS);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('"ftp://10.0.0.5/" is not a server\'s base URL');
    const noUrl = await runCli(['drain'], SECRETS);
    expect(noUrl.code).toBe(2);
    const noSecret = await runCli(['members', servers[0].baseUrl]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('SHAZBOT_SECRET is not set');
    const noControlSecret = await runCli(['drain', servers[0].baseUrl], { SHAZBOT_SECRET: DEMO_SECRET });
    expect(noControlSecret.code).toBe(2);
    expect(noControlSecret.stderr).toContain('SHAZBOT_CONTROL_SECRET is not set');
    const unknown = await runCli(['members', servers[0].baseUrl, '--secret', 'x'], SECRETS);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--secret'");
    const wrongPrefix = await runCli(['members', servers[0].baseUrl, '--prefix', 'elsewhere'], SECRETS);
    expect(wrongPrefix.code).toBe(1);
    expect(wrongPrefix.stderr).toContain('(404 Not Found): is the URL the server\'s base URL, and --prefix (now "elsewhere") its route prefix?');
  });

  it('watch --format json prints one change object per line', async () => {
    const watcher = spawnCli(['watch', servers[0].baseUrl, '--interval', '0.3', '--format', 'json'], SECRETS);
    let stdout = '';
    watcher.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    const target = servers[2];
    try {
      await cluster.waitFor('watch to poll once', async () => watcher.exitCode === null, (running) => running, 5_000, 50);
      await new Promise((r) => setTimeout(r, 1000)); // its first poll is the baseline, not a change
      expect((await runCli(['control', target.baseUrl, '--offline'], SECRETS)).code).toBe(0);
      await cluster.waitFor('the offline change', async () => stdout, (s) => s.includes('"to":"offline"'), 20_000, 50);
    } finally {
      expect((await runCli(['control', target.baseUrl, '--online'], SECRETS)).code).toBe(0);
      watcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const changes = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(changes).toContainEqual({ at: expect.any(Number), address: target.baseUrl, from: 'online', to: 'offline', declaredBy: 'itself' });
    await statusEverywhere(target, 'online');
  });

  it('sign: a POST with a body, accepted once at the server it names; control refused with the gossip secret', async () => {
    const body = { message: 'gossip', online: [], offline: [] };
    const signed = await runCli(['sign', 'POST', '/clustershazbot/gossip', JSON.stringify(body), '--url', servers[1].baseUrl], SECRETS);
    expect(signed).toMatchObject({ code: 0, stderr: '' });
    const header = signed.stdout.trim();
    expect(header).toMatch(/^Shazbot-HMAC-SHA256 cluster=default, ts=\d+, nonce=[A-Za-z0-9_-]+, sig=[A-Za-z0-9_-]{43}$/);
    const send = (server: ServerHandle) =>
      fetch(`${server.baseUrl}clustershazbot/gossip`, { method: 'POST', headers: { authorization: header, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send(servers[0])).status).toBe(401); // signed for another server
    expect((await send(servers[1])).status).toBe(200);
    expect((await send(servers[1])).status).toBe(401); // a replay
    // control takes the control secret: with the gossip secret in its place, 401 explained, exit 1
    const refused = await runCli(['control', servers[1].baseUrl, '--offline'], { SHAZBOT_CONTROL_SECRET: DEMO_SECRET });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^401 /);
    expect(refused.stderr).toContain('SHAZBOT_CONTROL_SECRET holds none of its secrets');
    expect(refused.stderr + refused.stdout).not.toContain(DEMO_SECRET);
    const bad = await runCli(['sign', 'POST', '/clustershazbot/gossip', '{not json', '--url', servers[1].baseUrl], SECRETS);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('the body is not valid JSON') });
  });

  it('sign with a query: signed for the path the server verifies, a note on stderr, accepted with the query (200)', async () => {
    const target = servers[0];
    const signed = await runCli(['sign', 'GET', '/clustershazbot/state?include=all', '--url', target.baseUrl], SECRETS);
    expect(signed.code).toBe(0);
    expect(signed.stderr).toBe('note: servers verify the path without its query: signed /clustershazbot/state; send the request with ?include=all as given\n');
    const res = await fetch(`${target.baseUrl}clustershazbot/state?include=all`, { headers: { authorization: signed.stdout.trim() } });
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(servers.map((s) => s.baseUrl).sort());
    // without a query, nothing on stderr
    expect((await runCli(['sign', 'GET', '/clustershazbot/state', '--url', target.baseUrl], SECRETS)).stderr).toBe('');
  });

  it('state --include all also shows the keys of offline servers; live (the default) does not; a bad value is a usage error', async () => {
    const target = servers[2];
    expect((await runCli(['control', target.baseUrl, '--offline'], SECRETS)).code).toBe(0);
    try {
      await cluster.waitFor(`${target.name} offline at ${servers[0].name}`, () => cluster.list(servers[0]), (v) => !!v?.offline.some((e) => e.baseUrl === target.baseUrl), 30_000);
      const keysIn = (run: { stdout: string }) => Object.keys(JSON.parse(run.stdout.slice(4)) as object).sort();
      const live = await runCli(['state', servers[0].baseUrl], SECRETS);
      expect(live.code).toBe(0);
      expect(keysIn(live)).toEqual([servers[0].baseUrl, servers[1].baseUrl].sort());
      expect(keysIn(await runCli(['state', servers[0].baseUrl, '--include', 'live'], SECRETS))).toEqual(keysIn(live));
      const all = await runCli(['state', servers[0].baseUrl, '--include', 'all'], SECRETS);
      expect(all).toMatchObject({ code: 0, stderr: '' });
      expect(keysIn(all)).toEqual(servers.map((s) => s.baseUrl).sort());
      const bad = await runCli(['state', servers[0].baseUrl, '--include', 'offline'], SECRETS);
      expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--include takes live or all, not "offline"') });
      expect((await runCli(['state', '--help'])).stdout).toContain('--include live|all');
    } finally {
      expect((await runCli(['control', target.baseUrl, '--online'], SECRETS)).code).toBe(0);
    }
    await statusEverywhere(target, 'online');
  });

  it('dashboard through a tunnel: --member signs for the server\'s own base URL and asks it through the tunnel', async () => {
    const target = servers[1];
    const tunnel = await LoopbackProxy.start(target.baseUrl);
    const dashboard = spawnCli(['dashboard', tunnel.url, '--member', target.baseUrl, '--port', '0', '--interval', '0.3'], SECRETS);
    let stdout = '';
    let stderr = '';
    dashboard.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    dashboard.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => dashboard.once('exit', resolve));
    try {
      await cluster.waitFor('the dashboard line', async () => stdout + stderr, (s) => s.includes('dashboard for cluster') || dashboard.exitCode !== null, 20_000, 50);
      expect(stdout).toContain(`(reading ${tunnel.url}, signed for ${target.baseUrl} every 0.3 s; Ctrl-C to stop)`);
      const page = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1];
      type Snapshot = { entry: string; member?: string; source?: string; members: { address: string }[]; servers: { address: string; reachable: boolean }[] };
      const snapshot = await cluster.waitFor(
        'a sweep of every member',
        async () => (await (await fetch(`${page}api/snapshot`)).json()) as Snapshot,
        (s) => s.servers.length === 3 && s.servers.every((r) => r.reachable),
        20_000,
        100,
      );
      expect(snapshot).toMatchObject({ entry: tunnel.url, member: target.baseUrl, source: target.baseUrl });
      expect(snapshot.members.map((m) => m.address).sort()).toEqual(servers.map((s) => s.baseUrl).sort());
      // the target was read through the tunnel (its view, its own list in the sweep), signed for its own base URL
      expect(tunnel.passed).toEqual(expect.arrayContaining(['GET /clustershazbot/list 200', 'GET /clustershazbot/state 200']));
      // only the sweep asks a host's health route: the target's went through the tunnel too
      expect(tunnel.passed.filter((r) => r.startsWith('GET /health '))).not.toEqual([]);
    } finally {
      dashboard.kill('SIGINT');
      const stuck = setTimeout(() => dashboard.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(stuck);
      await tunnel.close();
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });

  it('--request-timeout: a server that accepts and never answers is an exit 3 naming the option', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      const started = Date.now();
      const run = await runCli(['list', `http://127.0.0.1:${port}/`, '--request-timeout', '0.5'], SECRETS);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`error: cannot reach http://127.0.0.1:${port}/: no answer within 0.5 s (--request-timeout)`);
      expect(Date.now() - started).toBeLessThan(10_000);
      const members = await runCli(['members', `http://127.0.0.1:${port}/`, '--request-timeout', '0.3'], SECRETS);
      expect(members.code).toBe(3);
      expect(members.stderr).toContain('no answer within 0.3 s (--request-timeout)');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('the first commands keep working: list, state, control and sign', async () => {
    const list = await runCli(['list', servers[0].baseUrl], SECRETS);
    expect(list.code).toBe(0);
    expect(list.stdout.startsWith('200 ')).toBe(true);
    expect((JSON.parse(list.stdout.slice(4)) as { online: unknown[] }).online).toHaveLength(3);
    const state = await runCli(['state', servers[0].baseUrl], SECRETS);
    expect(state.code).toBe(0);
    expect(Object.keys(JSON.parse(state.stdout.slice(4)) as object).sort()).toEqual(servers.map((s) => s.baseUrl).sort());
    const control = await runCli(['control', servers[1].baseUrl, '--online'], SECRETS);
    expect(control).toMatchObject({ code: 0, stdout: '200 {"success":true}\n' });
    const sign = await runCli(['sign', 'GET', '/clustershazbot/list', '--url', servers[0].baseUrl], SECRETS);
    expect(sign.code).toBe(0);
    const res = await fetch(`${servers[0].baseUrl}clustershazbot/list`, { headers: { authorization: sign.stdout.trim() } });
    expect(res.status).toBe(200);
  });
});
