/**
 * `npm run bench:dns`: the DNS discovery figures, from real processes on loopback.
 * Prints how long after every DNS record changes all servers agree, in re-resolution intervals
 * and gossip rounds (the goal: within one interval + 3 rounds). BENCH_RUNS runs (default 3),
 * each scenario with servers of its own.
 */
import { DnsHarness, inIntervals, recordsReplaced, twoClustersMerge } from './dns-scenarios.js';

async function scenario<T>(run: (h: DnsHarness) => Promise<T>): Promise<T> {
  const h = await new DnsHarness().start();
  try {
    return await run(h);
  } catch (error) {
    for (const s of h.cluster.servers) console.error(`--- ${s.name} (${s.baseUrl})\n  ${s.output.slice(-6).join('\n  ')}`);
    throw error;
  } finally {
    await h.stop();
  }
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  for (let run = 1; run <= runs; run++) {
    const merge = await scenario(twoClustersMerge);
    console.log(`run ${run}: two clusters of 3 started apart: after every DNS record changed, all servers agree within ${inIntervals(merge.ms)}`);
    const replaced = await scenario(recordsReplaced);
    console.log(`run ${run}: every record replaced by 3 new servers: old and new agree within ${inIntervals(replaced.mergedMs)} of the new servers answering; the old ones stopped, the new agree alone within ${(replaced.oldGoneMs / 1000).toFixed(2)} s`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
