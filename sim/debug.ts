import { VirtualCluster } from './virtual-cluster.js';
const c = new VirtualCluster({ size: 10, seed: 7, settings: { probeIntervalMs: 1000 } });
c.startConverged();
await c.runFor(10000);
const victim = c.nodes[3];
c.recordChanges = true;
for (let i = 0; i < 10; i++) {
  const from = c.changes.length;
  victim.hung = true;
  await c.runFor(8000);
  victim.hung = false;
  await c.runFor(8000);
  const cyc = c.changes.slice(from).filter((x) => x.change.server.baseUrl === victim.url);
  const offl = cyc.filter((x) => x.change.type === 'offline');
  console.log(`cycle ${i}: offline ${offl.length} back ${cyc.filter((x) => x.change.previous === 'offline').length} suspect ${cyc.filter((x) => x.change.type === 'suspect').length}`, offl.slice(0, 2).map((x) => x.change.reason + ' @' + ((x.at - 1.8e12) / 1000).toFixed(1)).join(' '));
}
