/**
 * What every benchmark agent shares: bytes written to peers (TCP and UDP, counted at the
 * socket, so protocol framing and HTTP headers are included), JSON-line events on stdout,
 * and commands on stdin. Imported first, before the library under test opens any socket.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';

export const bytes = { wire: 0, body: 0 };

const socketWrite = net.Socket.prototype.write;
net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
  // stdout/stdin pipes have no remote address: only peer traffic counts
  if (this.remoteAddress && chunk) bytes.wire += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length;
  return (socketWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof net.Socket.prototype.write;

const datagramSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (this: dgram.Socket, message: unknown, ...rest: unknown[]) {
  const size = (m: unknown): number => (Array.isArray(m) ? m.reduce((n: number, b) => n + size(b), 0) : typeof m === 'string' ? Buffer.byteLength(m) : (m as Uint8Array).length);
  bytes.wire += size(message);
  return (datagramSend as (...args: unknown[]) => void).call(this, message, ...rest);
} as typeof dgram.Socket.prototype.send;

export function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function onCommand(handler: (command: string) => void): void {
  createInterface({ input: process.stdin }).on('line', (line) => handler(line.trim()));
}

export function reportBytesEverySecond(): void {
  setInterval(() => emit({ ev: 'bytes', ...bytes }), 1000).unref();
}
