import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';

/** Three bad peers on loopback: one answers 500, one answers garbage, one accepts and never answers. */
export class HostilePeers {
  private readonly servers: (Server | TcpServer)[] = [];
  private readonly sockets = new Set<Socket>();
  readonly hits = { error500: 0, garbage: 0, silent: 0 };
  urls: { error500: string; garbage: string; silent: string } = { error500: '', garbage: '', silent: '' };

  async start(): Promise<void> {
    const error500 = createHttpServer((_req, res) => {
      this.hits.error500++;
      res.statusCode = 500;
      res.end('{"error":"boom"}');
    });
    const garbage = createHttpServer((_req, res) => {
      this.hits.garbage++;
      res.setHeader('content-type', 'application/json');
      res.end('{"online": [{"baseUrl": 42}], "offline": "x"'); // truncated, ill-typed JSON
    });
    const silent = createTcpServer((socket) => {
      this.hits.silent++;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
    const listen = (s: Server | TcpServer) =>
      new Promise<string>((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}/`)));
    this.servers.push(error500, garbage, silent);
    this.urls = { error500: await listen(error500), garbage: await listen(garbage), silent: await listen(silent) };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}
