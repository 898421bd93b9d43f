/**
 * The steady-tick policy of periodic protocol work (probe ticks, pushes), shared by the Nest
 * shell's GossipService and the simulator so that what the simulator measures is what
 * production schedules. Ticks never overlap: the next one is due an interval after this one
 * started, or at once when this one ran longer (it waited on timeouts). A tick that fires later
 * than that was delayed by its host (a pause, a starved CPU), which the failure detector
 * measures as lateness (see Awareness.tickStarted).
 *
 * @param startedAt when the tick that just ended started (ms)
 * @param now when it ended (ms)
 * @returns when the next tick is due (ms, never before `now`)
 */
export function nextTickAt(startedAt: number, now: number, intervalMs: number): number {
  return Math.max(now, startedAt + intervalMs);
}
