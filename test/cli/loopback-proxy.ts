import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP proxy on a loopback port of its own, standing for the tunnel or port forward an
 * operator reaches a server through: every request goes to `upstream` unchanged (method, path,
 * headers, body) and its answer comes back unchanged, so the server sees a request that was
 * dialled at another URL than its own base URL.
 */
export class LoopbackProxy {
  /** The requests that got an answer through the proxy: "<METHOD> <path> <status>". */
  readonly passed: string[] = [];
  private broken = false;
  private breakAfter?: (req: IncomingMessage) => boolean;

  private constructor(
    private readonly server: Server,
    /** The proxy's own base URL, e.g. http://127.0.0.1:41234/. */
    readonly url: string,
  ) {}

  /** Listens on a free loopback port and forwards to the server at `upstream` (a base URL on loopback). */
  static async start(upstream: string): Promise<LoopbackProxy> {
    const { hostname, port } = new URL(upstream);
    let proxy!: LoopbackProxy;
    const server = createServer((req, res) => {
      // a dropped tunnel: the connection closes without an answer
      if (proxy.broken) return void req.socket.destroy();
      const forwarded = request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        proxy.passed.push(`${req.method} ${req.url} ${answer.statusCode}`);
        if (proxy.breakAfter?.(req)) proxy.broken = true; // before the answer leaves: the next request finds the tunnel down
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new LoopbackProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return proxy;
  }

  /** Drops the tunnel once a request that `matches` has been answered: later requests get no answer. */
  dropAfter(matches: (req: IncomingMessage) => boolean): void {
    this.breakAfter = matches;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
