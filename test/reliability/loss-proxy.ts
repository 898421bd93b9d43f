/**
 * An HTTP proxy in front of one server that loses messages: with probability `lossRate` a
 * request is swallowed (the caller times out), and with the same probability the answer is.
 * Loss without netem, between real processes.
 */
import { createServer, request, type Server } from 'node:http';

export class LossProxy {
  private server?: Server;
  dropped = 0;
  forwarded = 0;

  constructor(
    private readonly targetPort: number,
    private readonly lossRate: number,
  ) {}

  async listen(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      if (Math.random() < this.lossRate) {
        this.dropped++;
        req.resume();
        setTimeout(() => res.destroy(), 10_000).unref(); // never answered within any timeout
        return;
      }
      const upstream = request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (Math.random() < this.lossRate) {
          this.dropped++;
          answer.resume();
          setTimeout(() => res.destroy(), 10_000).unref();
          return;
        }
        this.forwarded++;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}
