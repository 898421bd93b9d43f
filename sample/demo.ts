/**
 * `npm start`: five sample servers on loopback, a file master list, a half-second interval.
 * Prints the cluster as it converges and the URLs to open. SIGINT (Ctrl-C, or `kill -INT` sent to
 * `npm start`, which execs this script) and SIGTERM (a supervisor, `docker stop`) stop every
 * server it started, each cleanly, then the demo itself.
 * DEMO_EXIT_AFTER_CONVERGED=1 stops it by itself once converged (used by the tests).
 */
import { DEMO_CONTROL_SECRET, DEMO_SECRET, LocalCluster } from './local-cluster.js';

const SIZE = 5;

const cluster = new LocalCluster({
  SHAZBOT_MASTER_ANNOUNCE_MINIMUM: '5',
  SHAZBOT_MASTER_ANNOUNCE_INTERVAL: '5',
  SHAZBOT_UPDATE_MASTER_LIST_ON_SHUTDOWN: 'false',
});

let stopping = false;
/** Stops every server (passing on the signal received; each goes offline and tells its peers), removes the temp folder, exits. */
async function stop(code: number, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping all servers (each goes offline and tells its peers)...');
  await cluster.stopAll(signal);
  // a server that had to be killed (it did not stop within 10 s) shows SIGKILL here
  const how = cluster.servers.filter((s) => s.child).map((s) => `${s.name} ${s.child!.signalCode ?? `exit code ${s.child!.exitCode}`}`);
  console.log(`all servers stopped.${how.length ? ` (${how.join(', ')})` : ''}`);
  process.exit(code);
}
// installed before any server starts, so no signal can leave one behind
process.on('SIGINT', () => void stop(0, 'SIGINT'));
process.on('SIGTERM', () => void stop(0, 'SIGTERM'));

async function main(): Promise<void> {
  for (let i = 1; i <= SIZE; i++) {
    await cluster.add(`server-${i}`, { env: i === 1 ? { SHAZBOT_MONITOR: 'true' } : {} });
  }
  for (const s of cluster.servers) s.env.SHAZBOT_MASTER_LIST_UPDATE = s.env.SHAZBOT_MASTER_LIST;
  cluster.writeMasterList([cluster.servers[0].baseUrl]);
  if (stopping) return;

  console.log(`starting ${SIZE} servers; master list: ${cluster.masterListPath} (seed: ${cluster.servers[0].baseUrl})`);
  cluster.servers.forEach((s) => cluster.start(s));

  // a fresh Nest process needs a few seconds before it listens: say what its '-' means once
  console.log(`each line: how many servers each one sees online ('-': not answering yet, the process is still starting)`);
  const started = Date.now();
  let converged = false;
  while (!stopping && Date.now() - started < 60_000) {
    const counts = await cluster.onlineCounts();
    const line = cluster.servers.map((s, i) => `${s.name} sees ${counts[i] ?? '-'}`).join(' | ');
    console.log(`t=${((Date.now() - started) / 1000).toFixed(1)}s  ${line}`);
    if (counts.every((c) => c === SIZE)) {
      converged = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (stopping) return; // a signal arrived: stop() is under way
  if (!converged) {
    console.error('the cluster did not converge within 60 s; last output of each server:');
    for (const s of cluster.servers) console.error(`--- ${s.name}\n${s.output.slice(-10).join('\n')}`);
    return stop(1);
  }
  console.log(`\nconverged: all ${SIZE} servers see ${SIZE} online after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  for (const s of cluster.servers) console.log(`  ${s.name}: ${s.baseUrl}health   ${s.baseUrl}cluster`);
  const target = cluster.servers[SIZE - 1];
  console.log('\ntry, in another terminal (requests are signed; the CLI signs them for you):');
  console.log(`  SHAZBOT_SECRET=${DEMO_SECRET} node dist/cli.js list ${cluster.servers[0].baseUrl}`);
  console.log(`  SHAZBOT_SECRET=${DEMO_SECRET} node dist/cli.js state ${cluster.servers[0].baseUrl}     (each server's started and load keys)`);
  console.log(`  SHAZBOT_CONTROL_SECRET=${DEMO_CONTROL_SECRET} node dist/cli.js control ${target.baseUrl} --offline`);
  console.log('(demo secrets, loopback only)   Ctrl-C stops all servers.');
  if (process.env.DEMO_EXIT_AFTER_CONVERGED) await stop(0);
}

main().catch((error: unknown) => {
  console.error(error);
  return stop(1);
});
