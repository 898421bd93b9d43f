/**
 * `npm run bench:dns`: the DNS discovery figures, from real processes on loopback.
 * Prints how long after every DNS record changes all servers agree, in re-resolution intervals
 * and gossip rounds (the goal: within one interval + 3 rounds).
 */
import { DnsHarness, inIntervals, recordsReplaced, twoClustersMerge } from './dns-scenarios.js';

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  for (let run = 1; run <= runs; run++) {
    const h = await new DnsHarness().start();
    try {
      const merge = await twoClustersMerge(h);
      console.log(`run ${run}: two clusters of 3 started apart: after every DNS record changed, all servers agree within ${inIntervals(merge.ms)}`);
      const replaced = await recordsReplaced(h);
      console.log(`run ${run}: every record replaced by 3 new servers: old and new agree within ${inIntervals(replaced.mergedMs)} of the new servers answering; the old ones stopped, the new agree alone within ${(replaced.oldGoneMs / 1000).toFixed(2)} s`);
    } finally {
      await h.stop();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
