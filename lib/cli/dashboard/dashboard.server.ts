import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../cli-errors.js';
import type { DashboardSnapshot } from './dashboard-snapshot.js';

/** Where the dashboard's snapshots come from (the `ClusterMonitor`). */
export interface SnapshotSource {
  snapshot(): DashboardSnapshot;
  onSnapshot(listener: (snapshot: DashboardSnapshot) => void): () => void;
}

/** The page's files, shipped in the package next to this module (`dist/cli/dashboard/page/`). */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** The page runs only its own script and talks only to this server. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const HEARTBEAT_MS = 15_000;

/**
 * The dashboard's local HTTP server, on 127.0.0.1 only: the page (static files), its data
 * as JSON (`GET /api/snapshot`) and as server-sent events (`GET /api/events`, one `snapshot`
 * event per refresh). The CLI signs its requests to the cluster; nothing here needs or shows
 * a secret. Requests whose Host is not this loopback address are refused, so a web page
 * elsewhere cannot read it through DNS rebinding.
 */
export class DashboardServer {
  private server: Server | undefined;
  private readonly streams = new Set<ServerResponse>();
  private readonly page = new Map<string, { body: Buffer; type: string }>();
  private allowedHosts = new Set<string>();

  constructor(
    private readonly source: SnapshotSource,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {
    const dir = new URL('./page/', import.meta.url);
    for (const [route, { file, type }] of Object.entries(PAGE_FILES)) {
      try {
        this.page.set(route, { body: readFileSync(new URL(file, dir)), type });
      } catch {
        throw new Error(`the dashboard page (${file}) is missing next to ${new URL('.', import.meta.url).pathname}: reinstall the package or rerun its build`);
      }
    }
  }

  /** Listens; resolves to the page's URL. @throws UsageError when the port is taken */
  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${this.port} on ${this.host} is in use: pass another --port (0 picks a free one)`) : error),
      );
      server.listen(this.port, this.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    const heartbeat = setInterval(() => this.streams.forEach((s) => s.write(': heartbeat\n\n')), HEARTBEAT_MS);
    server.once('close', () => clearInterval(heartbeat));
    this.unsubscribe = this.source.onSnapshot((snapshot) => {
      const event = eventOf(snapshot);
      for (const stream of this.streams) stream.write(event);
    });
    return `http://127.0.0.1:${port}/`;
  }

  private unsubscribe = () => {};

  async close(): Promise<void> {
    this.unsubscribe();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.allowedHosts.has(req.headers.host ?? '')) return this.answer(res, 421, 'text/plain; charset=utf-8', 'this dashboard answers only at its loopback address\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.answer(res, 405, 'text/plain; charset=utf-8', 'only GET\n');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/snapshot') return this.answer(res, 200, 'application/json', JSON.stringify(this.source.snapshot()));
    if (path === '/api/events') return this.stream(res);
    const file = this.page.get(path === '/index.html' ? '/' : path);
    if (file) return this.answer(res, 200, file.type, file.body);
    this.answer(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  private answer(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Server-sent events: the current snapshot at once, then one per refresh. */
  private stream(res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write(`retry: 2000\n\n${eventOf(this.source.snapshot())}`);
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }
}

function eventOf(snapshot: DashboardSnapshot): string {
  return `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
}
