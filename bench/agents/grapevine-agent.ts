/** grapevine 1.0.6 (the seed): TCP scuttlebutt, 1 s gossip and heartbeat, phi-accrual threshold 8. */
import { bytes, emit, onCommand, reportBytesEverySecond } from './agent-io.js';
import { createRequire } from 'node:module';

const { Gossiper } = createRequire(import.meta.url)('grapevine');
const port = Number(process.env.PORT);
const seeds = process.env.SEEDS ? process.env.SEEDS.split(',') : [];
const gossiper = new Gossiper({ port, address: '127.0.0.1', seeds });
gossiper.on('new_peer', (peer: { name: string }) => emit({ ev: 'alive', peer: peer.name }));
gossiper.on('peer_alive', (peer: string) => emit({ ev: 'alive', peer }));
gossiper.on('peer_failed', (peer: string) => emit({ ev: 'failed', peer }));
gossiper.on('update', (peer: string, key: string) => key === 'bench' && emit({ ev: 'value', peer }));
gossiper.start(() => emit({ ev: 'ready', self: `127.0.0.1:${port}` }));
// its own view of who is alive (phi below threshold), as the controller counts membership
setInterval(() => emit({ ev: 'members', peers: gossiper.livePeers() }), 500).unref();
onCommand((command) => command === 'change' && gossiper.setLocalState('bench', Date.now()));
reportBytesEverySecond();
void bytes;
