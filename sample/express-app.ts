/**
 * The package page's Express example, on the plain-function API: the same module runs
 * underneath, configured from the same SHAZBOT_* variables.
 */
import 'reflect-metadata';
import express, { type Request, type Response } from 'express';
import {
  ClustershazbotRequestError,
  shazbotControlRequest,
  shazbotGossipRequest,
  shazbotHealthExtension,
  shazbotListRequest,
  shazbotProbeRequest,
  shazbotSetState,
  shazbotShutDown,
  shazbotStart,
  shazbotStateRequest,
  shazbotSyncRequest,
  type ControlMessage,
  type GossipMessage,
  type ProbeMessage,
  type ShazbotRequestOptions,
  type SyncMessage,
} from 'clustershazbot';
import { listenAddress } from './listen-address.js';

const app = express();
app.use(express.json({ limit: '4mb' }));

const statusOf = (error: unknown) => (error instanceof ClustershazbotRequestError ? error.status : 500);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** The client's address (failed-authentication limit, audit line) and where the functions put the reply's signature. */
const replyTo = (req: Request, res: Response): ShazbotRequestOptions => ({ client: req.ip, setHeader: (name, value) => res.setHeader(name, value) });

app.post('/clustershazbot/gossip', async (req, res) => {
  try {
    res.json(await shazbotGossipRequest(req.headers.authorization || '', req.body as GossipMessage, replyTo(req, res)));
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.post('/clustershazbot/probe', async (req, res) => {
  try {
    res.json(await shazbotProbeRequest(req.headers.authorization || '', req.body as ProbeMessage, replyTo(req, res)));
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.post('/clustershazbot/sync', async (req, res) => {
  try {
    res.json(await shazbotSyncRequest(req.headers.authorization || '', req.body as SyncMessage, replyTo(req, res)));
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.get('/clustershazbot/state', async (req, res) => {
  try {
    res.json(await shazbotStateRequest(req.headers.authorization || '', replyTo(req, res)));
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.get('/clustershazbot/list', async (req, res) => {
  try {
    res.json(await shazbotListRequest(req.headers.authorization || '', replyTo(req, res)));
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.post('/clustershazbot/control', async (req, res) => {
  try {
    await shazbotControlRequest(req.headers.authorization || '', req.body as ControlMessage, replyTo(req, res));
    res.json({ success: true });
  } catch (error) {
    res.status(statusOf(error)).json({ error: messageOf(error) });
  }
});

app.get('/health', (_req, res) => res.json(shazbotHealthExtension()));

async function main(): Promise<void> {
  await shazbotStart();
  shazbotSetState('runtime', { framework: 'express', node: process.version });
  const { host, port } = listenAddress();
  const server = app.listen(port, host, () => console.log(`express server on ${host}:${port}`));
  const stop = async () => {
    await shazbotShutDown();
    server.close(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(messageOf(error));
  process.exit(1);
});
