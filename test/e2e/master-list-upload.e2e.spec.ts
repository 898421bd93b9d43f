/**
 * The announce timer and the master-list upload (docs/protocol.md, "announce and shutdown"),
 * from real Nest apps: the merged view is written to a file:// list atomically, or sent to an
 * http(s) list with PUT or POST and the configured Authorization header, every
 * `masterAnnounceMinimumSeconds` + up to `masterAnnounceIntervalSeconds`, and on shutdown when
 * asked. A failed upload is a warning and the next one follows on schedule. The http list is a
 * real HTTP server on loopback.
 */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { GossipService } from '../../lib/gossip.service.js';
import { ClusterService, ClustershazbotModule, type ServerList } from '../../lib/index.js';
import { signedPost } from '../support/signed.js';
import { baseOptions, createApp, masterListFile, SECRET, SELF } from './app-fixture.js';

jest.setTimeout(60_000);

const PEER = 'http://127.0.0.31:1/';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A master-list server on loopback that records each upload and answers with `status()`. */
class ListServer {
  readonly uploads: { method: string; path: string; authorization?: string; contentType?: string; body: ServerList; at: number }[] = [];
  status = 204;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        this.uploads.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], body: JSON.parse(text || 'null') as ServerList, at: Date.now() });
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/cluster/master.json`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('announce to a file:// master list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-announce-'));
  const target = join(dir, 'nested', 'master.json');
  let app: INestApplication | undefined;

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the merged view atomically on its timer, again after each interval, and on shutdown when asked', async () => {
    const started = Date.now();
    app = await createApp(
      'express',
      ClustershazbotModule.forRoot(
        baseOptions({
          masterListUrl: masterListFile(),
          masterListUpdateUrl: pathToFileURL(target).toString(),
          masterAnnounceMinimumSeconds: 0.3,
          masterAnnounceIntervalSeconds: 0.2,
          updateMasterListOnShutdown: true,
        }),
      ),
    );
    // the first upload comes after at least the minimum, creating the folder
    await until('the first upload', () => existsSync(target));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const first = JSON.parse(readFileSync(target, 'utf8')) as ServerList;
    expect(first.online.map((e) => e.baseUrl)).toEqual([SELF]);
    // a peer joins: a later upload carries it
    await signedPost(request(app.getHttpServer()), '/clustershazbot/gossip', SECRET, { message: 'gossip', online: [{ baseUrl: PEER, monitor: false, lastUpdate: Date.now() }], offline: [] }).expect(200);
    await until('an upload with the new peer', () => (JSON.parse(readFileSync(target, 'utf8')) as ServerList).online.some((e) => e.baseUrl === PEER));
    // the temporary files were renamed into place, none left behind
    expect(readdirSync(join(dir, 'nested'))).toEqual(['master.json']);
    // shutdown: offline, then the list says so
    const before = statSync(target).mtimeMs;
    await app.close();
    app = undefined;
    const last = JSON.parse(readFileSync(target, 'utf8')) as ServerList;
    expect(statSync(target).mtimeMs).toBeGreaterThanOrEqual(before);
    expect(last.offline?.map((e) => e.baseUrl)).toContain(SELF);
  });
});

describe('announce to an http master list', () => {
  const list = new ListServer();
  let url: string;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    url = await list.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await list.stop();
  });

  const start = async (extra: Parameters<typeof baseOptions>[0]) => {
    const app = await createApp('express', ClustershazbotModule.forRoot(baseOptions({ masterListUrl: masterListFile(), masterListUpdateUrl: url, masterListUpdateAuth: 'Bearer list-token', ...extra })));
    apps.push(app);
    return app;
  };

  it('PUTs the view as JSON with the Authorization header, on schedule: no sooner than the minimum, then again', async () => {
    list.uploads.length = 0;
    const startedAt = Date.now();
    const app = await start({ masterAnnounceMinimumSeconds: 0.4, masterAnnounceIntervalSeconds: 0.1 });
    await until('two uploads', () => list.uploads.length >= 2);
    const [first, second] = list.uploads;
    expect(first).toMatchObject({ method: 'PUT', path: '/cluster/master.json', authorization: 'Bearer list-token', contentType: 'application/json' });
    expect(first.body.online.map((e) => e.baseUrl)).toEqual([SELF]);
    expect(first.at - startedAt).toBeGreaterThanOrEqual(400);
    // each next upload is minimum + random · interval after the previous one: 0.4 to 0.5 s
    expect(second.at - first.at).toBeGreaterThanOrEqual(380);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  it('POSTs when asked; a refused upload fails without throwing, and the next one follows on schedule', async () => {
    list.uploads.length = 0;
    list.status = 500;
    const app = await start({ masterListUpdateMethod: 'POST', masterAnnounceMinimumSeconds: 0.1, masterAnnounceIntervalSeconds: 0 });
    await until('three refused uploads', () => list.uploads.length >= 3);
    expect(list.uploads.every((u) => u.method === 'POST')).toBe(true);
    expect(app.get(ClusterService).status().state).toBe('running');
    await expect(app.get(GossipService, { strict: false }).announce()).resolves.toBe(false);
    list.status = 204;
    await expect(app.get(GossipService, { strict: false }).announce()).resolves.toBe(true);
    list.status = 204;
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  it('without updateMasterListOnShutdown, shutdown uploads nothing', async () => {
    list.uploads.length = 0;
    const app = await start({ masterAnnounceMinimumSeconds: 3600 });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(list.uploads).toEqual([]);
  });

  it('with it, shutdown uploads the view with this server offline', async () => {
    list.uploads.length = 0;
    const app = await start({ masterAnnounceMinimumSeconds: 3600, updateMasterListOnShutdown: true });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(list.uploads).toHaveLength(1);
    expect(list.uploads[0].body.offline?.map((e) => e.baseUrl)).toEqual([SELF]);
    expect(list.uploads[0].body.online).toEqual([]);
  });
});
