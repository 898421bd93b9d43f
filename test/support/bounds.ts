/**
 * The bounds docs/failure-detection.md and docs/measurements.md state, in probe intervals, for
 * tests of real processes to assert (not only print). Each is written once here, with where it
 * comes from; a test converts it to ms with its own probe interval.
 */
import { loadavg } from 'node:os';

/**
 * A killed process (its port refuses) of an established member: offline on every live server
 * within 2 + ceil(log2 N) intervals: the first probe of it and the indirect ones, then the
 * pushes that spread the declaration (docs/failure-detection.md, "Stated bounds").
 */
export function killedProcessIntervals(clusterSize: number): number {
  return 2 + Math.ceil(Math.log2(clusterSize));
}

/**
 * A lost host or a frozen process (nothing answers): offline on every live server within
 * 2 + 4 · max(1, log10 N) + log2 N + 2 intervals: the probes, the minimum suspicion timeout once
 * confirmations have arrived, and the spread (docs/failure-detection.md, "Stated bounds").
 */
export function lostHostIntervals(clusterSize: number): number {
  return 2 + 4 * Math.max(1, Math.log10(clusterSize)) + Math.log2(clusterSize) + 2;
}

/**
 * A dead server whose suspicion gets no confirmation in time (10 % message loss drops them; a
 * starved server withholds its own): offline within the maximum suspicion timeout instead of
 * the minimum, 2 + 6 · 4 · max(1, log10 N) + log2 N + 2 intervals (docs/failure-detection.md,
 * step 6: the timeout starts at 6× the minimum).
 */
export function unconfirmedSuspicionIntervals(clusterSize: number): number {
  return 2 + 6 * 4 * Math.max(1, Math.log10(clusterSize)) + Math.log2(clusterSize) + 2;
}

/** A change made on one server (control offline, a key) on every server: log2 N + 2 intervals (the dissemination goal). */
export function spreadIntervals(clusterSize: number): number {
  return Math.log2(clusterSize) + 2;
}

/**
 * Every server sees every other, counted from when the last one listens: one interval for the
 * last one's reconnect probe to a seed (and the sync it starts), then the spread of its entry.
 */
export function convergenceIntervals(clusterSize: number): number {
  return 1 + spreadIntervals(clusterSize);
}

/**
 * Each side of a partition shows every server of the other offline: up to N − 1 intervals for
 * each server's round-robin to reach each one across, 2 for the probes, the suspicion timeout
 * with the confirmations one side can give (its own size − 1 of the 3 expected), and the spread.
 */
export function partitionIntervals(clusterSize: number, sideSize: number): number {
  const min = 4 * Math.max(1, Math.log10(clusterSize));
  const max = 6 * min;
  const confirmations = Math.min(3, sideSize - 1);
  const timeout = Math.max(min, max - ((max - min) * Math.log(confirmations + 1)) / Math.log(4));
  return clusterSize - 1 + 2 + timeout + spreadIntervals(clusterSize);
}

/** A healed partition: everyone online everywhere again within 30 intervals (the simulator's stated bound, test/core/failure-detection.spec.ts). */
export const HEAL_INTERVALS = 30;

/**
 * Asserts that a measured time is within a bound given in probe intervals, with a message that
 * says what was measured, the bound in intervals and ms, and the machine's load (a real
 * process's timers run late on a starved machine: Lifeguard then slows detection on purpose).
 */
export function expectWithin(what: string, measuredMs: number | undefined, intervals: number, intervalMs: number): void {
  const boundMs = intervals * intervalMs;
  if (measuredMs === undefined || !Number.isFinite(measuredMs) || measuredMs < 0) throw new Error(`${what}: no figure (got ${measuredMs})`);
  if (measuredMs > boundMs) {
    throw new Error(
      `${what}: ${(measuredMs / 1000).toFixed(2)} s, above the stated bound of ${intervals.toFixed(2)} intervals (${(boundMs / 1000).toFixed(2)} s at ${intervalMs} ms); load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  }
}
