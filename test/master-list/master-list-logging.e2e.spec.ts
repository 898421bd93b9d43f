/**
 * One master-list failure, one log line (a real Nest app on loopback, a real file:// list that
 * cannot be read or written): the line names what failed (the list's URL and the reason) and
 * what to fix (the variable and option), and the diagnostics' `master-list` problem, raised for
 * the same failure, is listed and reported without logging it a second time.
 */
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterService, ClustershazbotModule } from '../../lib/index.js';
import { GossipService } from '../../lib/gossip.service.js';
import { baseOptions, createApp } from '../e2e/app-fixture.js';

const lines: string[] = [];
const apps: INestApplication[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shazbot-master-list-'));
  for (const level of ['log', 'warn', 'error'] as const) {
    jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(`${level}: ${String(message)}`));
  }
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close().catch(() => undefined)));
  lines.splice(0);
});
afterAll(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
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
});
