/**
 * The package page's Express example, with one router for every endpoint: the same module runs
 * underneath, configured from the same SHAZBOT_* variables. SIGINT (Ctrl-C) and SIGTERM (a
 * supervisor, `docker stop`) both shut it down cleanly: offline, peers told, then exit.
 */
import 'reflect-metadata';
import express from 'express';
import { clustershazbotRouter, shazbotHealthExtension, shazbotSetState, shazbotShutDown, shazbotStart } from 'clustershazbot';
import { listenAddress } from './listen-address.js';

const app = express();
app.use(express.json({ limit: '4mb' })); // optional: without a parser the router reads the body itself
app.use(clustershazbotRouter()); // gossip, probe, sync, list, state, control under /clustershazbot/
app.get('/health', (_req, res) => {
  const health = shazbotHealthExtension();
  // 'error' means the module is not running: a health check must see it fail, not a 200
  res.status(health.status === 'ok' ? 200 : 503).json(health);
});

async function main(): Promise<void> {
  await shazbotStart();
  shazbotSetState('runtime', { framework: 'express', node: process.version });
  const { host, port } = listenAddress();
  const server = app.listen(port, host, () => console.log(`express server on ${host}:${port}`));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await shazbotShutDown();
    server.close(() => process.exit(0));
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
