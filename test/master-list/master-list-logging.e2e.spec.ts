/**
 * One master-list failure, one log line (a real Nest app on loopback, a real file:// list that
 * cannot be read or written): the line names what failed (the list's URL and the reason) and
 * what to fix (the variable and option), and the diagnostics' `master-list` problem, raised for
 * the same failure, is listed and reported without logging it a second time.
 */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterService, ClustershazbotModule } from '../../lib/index.js';
import { GossipService } from '../../lib/gossip.service.js';
import { baseOptions, captureLogs, createApp } from '../e2e/app-fixture.js';

const lines = captureLogs();
const apps: INestApplication[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shazbot-master-list-'));
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close().catch(() => undefined)));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An HTTP server on loopback answering every request with `status`; it records the paths asked. */
async function answering(status: number): Promise<{ url: string; asked: string[]; server: Server }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' }).end('no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, server };
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const masterListLines = () => lines.filter((l) => /master list/i.test(l) && !l.startsWith('log: master list loaded'));

describe('a master list that cannot be read or written', () => {
  it('an unreadable list: one warn line, naming the URL, the reason and SHAZBOT_MASTER_LIST; the problem is still listed', async () => {
    const missing = pathToFileURL(join(dir, 'gone.json')).toString();
    // gossip every hour: the first retry comes 2.5 to 5 s after start, well after this test's reads
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: missing })));
    apps.push(app);
    const cluster = app.get(ClusterService);
    // status() evaluates the diagnostics now: the `master-list` problem is raised for this failure
    const problems = cluster.status().problems;
    expect(problems).toEqual([expect.objectContaining({ code: 'master-list', setting: 'SHAZBOT_MASTER_LIST', message: expect.stringMatching(/^master list unavailable: ENOENT/) })]);
    expect(cluster.status().masterList).toMatchObject({ loaded: false, attempts: 1 });
    const logged = masterListLines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(new RegExp(`^warn: master list ${missing.replace(/[.]/g, '\\.')} unavailable \\(ENOENT[^)]*\\): check SHAZBOT_MASTER_LIST \\(option masterListUrl\\); this server must be able to read the list \\(a file that exists, a URL that answers 200\\); starting from what is known, retrying in \\d\\.\\d s$`));
  });

  it('a list that loads later: its load is logged once, and the problem clears without a second line', async () => {
    const path = join(dir, 'late.json');
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: pathToFileURL(path).toString() })));
    apps.push(app);
    const cluster = app.get(ClusterService);
    expect(cluster.status().problems.map((p) => p.code)).toEqual(['master-list']);
    writeFileSync(path, JSON.stringify({ online: [{ baseUrl: 'http://127.0.0.1:4101/' }] }));
    expect(await app.get(GossipService).loadMasterList()).toBe(true);
    expect(cluster.status().problems).toEqual([]);
    expect(lines.filter((l) => /master list/i.test(l))).toEqual([expect.stringMatching(/^warn: master list .* unavailable/), 'log: master list loaded: 1 online, 0 offline']);
  });

  it('an upload that fails: one warn line naming the URL, the reason and SHAZBOT_MASTER_LIST_UPDATE', async () => {
    // a folder that is a file: no one can write under it, root included
    writeFileSync(join(dir, 'not-a-folder'), '');
    const target = pathToFileURL(join(dir, 'not-a-folder', 'master.json')).toString();
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUpdateUrl: target, masterAnnounceMinimumSeconds: 3600 })));
    apps.push(app);
    lines.splice(0); // the start's lines: the list itself loads
    expect(await app.get(GossipService).announce()).toBe(false);
    app.get(ClusterService).status(); // the diagnostics, evaluated: an upload failure is no problem of theirs
    expect(masterListLines()).toEqual([
      expect.stringMatching(new RegExp(`^warn: master list upload to ${target.replace(/[.]/g, '\\.')} failed \\((ENOTDIR|EEXIST)[^)]*\\): check SHAZBOT_MASTER_LIST_UPDATE \\(option masterListUpdateUrl\\) and that this server may write there; the list keeps its last upload until the next announce$`)),
    ]);
  });

  it.each([401, 500])('an http list answering %i: one warn line with the status, the URL without its query (a token), and SHAZBOT_MASTER_LIST', async (status) => {
    const list = await answering(status);
    const token = 'tok-3f9a1c-never-logged';
    // a generous timeout: the answer comes at once, and a loaded machine must not turn it into "timed out"
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: `${list.url}/cluster.json?token=${token}`, requestTimeoutSeconds: 10 })));
    apps.push(app);
    expect(list.asked).toEqual([`/cluster.json?token=${token}`]);
    const logged = masterListLines();
    expect(logged).toHaveLength(1);
    const escaped = `${list.url}/cluster.json`.replace(/[.]/g, '\\.');
    expect(logged[0]).toMatch(new RegExp(`^warn: master list ${escaped} unavailable \\(HTTP ${status}\\): check SHAZBOT_MASTER_LIST \\(option masterListUrl\\); this server must be able to read the list \\(a file that exists, a URL that answers 200\\); starting from what is known, retrying in \\d\\.\\d s$`));
    const problems = app.get(ClusterService).status().problems;
    expect(problems).toEqual([{ code: 'master-list', setting: 'SHAZBOT_MASTER_LIST', message: `master list unavailable: HTTP ${status}`, since: expect.any(Number) }]);
    expect(JSON.stringify(problems) + lines.join('\n')).not.toContain(token);
  });

  it('a custom store that rejects: the lines name the masterListStore option, its load() and save(), not a URL or variable', async () => {
    const store = {
      load: () => Promise.reject(new Error('table cluster_members does not exist')),
      save: () => Promise.reject(new Error('read-only transaction')),
    };
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListStore: store, masterAnnounceMinimumSeconds: 3600 })));
    apps.push(app);
    const cluster = app.get(ClusterService);
    expect(cluster.status().problems).toEqual([
      { code: 'master-list', setting: 'masterListStore', message: 'master list unavailable: table cluster_members does not exist', since: expect.any(Number) },
    ]);
    expect(await app.get(GossipService).announce()).toBe(false);
    const logged = masterListLines();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^warn: master list from the masterListStore option unavailable \(table cluster_members does not exist\): its load\(\) must resolve a list; starting from what is known, retrying in \d\.\d s$/);
    expect(logged[1]).toBe('warn: master list upload to the masterListStore option failed (read-only transaction): its save() rejected; the list keeps its last upload until the next announce');
  });
});
