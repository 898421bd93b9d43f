/** clustershazbot: the library as a Nest app would use it (Express, LAN profile: probe 1 s). */
import { bytes, emit, onCommand, reportBytesEverySecond } from './agent-io.js';
import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClusterService, ClustershazbotModule, peerEventOf } from 'clustershazbot';
import type { NextFunction, Request, Response } from 'express';

@Module({ imports: [ClustershazbotModule.forRoot()] })
class AgentModule {}

const app = await NestFactory.create(AgentModule, { logger: false });
// HTTP bodies, counted apart from the wire total so headers can be told apart
app.use((_req: Request, res: Response, next: NextFunction) => {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  const count = (chunk: unknown) => {
    if (chunk && typeof chunk !== 'function') bytes.body += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length;
  };
  res.write = ((chunk: unknown, ...rest: unknown[]) => (count(chunk), write(chunk, ...rest))) as typeof res.write;
  res.end = ((chunk: unknown, ...rest: unknown[]) => (count(chunk), end(chunk, ...rest))) as typeof res.end;
  next();
});
app.get(HttpService, { strict: false }).axiosRef.interceptors.request.use((config) => {
  if (config.data) bytes.body += Buffer.byteLength(typeof config.data === 'string' ? config.data : JSON.stringify(config.data));
  return config;
});
const cluster = app.get(ClusterService);
const self = cluster.self().baseUrl;
cluster.changes$.subscribe((change) => {
  if (change.server.baseUrl === self) return;
  const event = peerEventOf(change);
  if (event === 'new_peer' || event === 'peer_alive') emit({ ev: 'alive', peer: change.server.baseUrl });
  if (event === 'peer_failed') emit({ ev: 'failed', peer: change.server.baseUrl });
});
cluster.on('update', (server, key) => key === 'bench' && server !== self && emit({ ev: 'value', peer: server }));
await app.listen(Number(process.env.PORT), '127.0.0.1');
emit({ ev: 'ready', self });
onCommand((command) => command === 'change' && cluster.setLocalState('bench', Date.now()));
reportBytesEverySecond();
