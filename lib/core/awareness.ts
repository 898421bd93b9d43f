/**
 * Lifeguard's local health awareness (Dadgar et al., 2018, "Local Health Multiplier";
 * hashicorp/memberlist awareness.go): a score that rises when this server shows signs of being
 * the slow one (an ack that only arrived indirectly, a rumour about itself, its own timers
 * running late) and falls with every timely ack. Probe timeouts scale with it, and while it
 * is raised this server accuses nobody in haste. Owns the score, the quiet period after a
 * pause, and the measure of a probe tick's lateness.
 */
export class Awareness {
  private health = 0;
  /** No accusations before this time (we were just starved or paused). */
  private quietUntil = 0;
  private lastTickAt?: number;
  private lastTickEndedAt?: number;

  /**
   * @param max the score stays below this (memberlist's AwarenessMaxMultiplier, 8)
   * @param quietPeriodMs how long after a detected pause accusations are withheld
   */
  constructor(
    private readonly max: number,
    private readonly quietPeriodMs: number,
  ) {}

  /** 0 is healthy; at most `max` − 1. */
  get score(): number {
    return this.health;
  }

  /** Evidence that we are the problem (a late ack, a rumour about ourselves). */
  raise(): void {
    this.health = Math.min(this.max - 1, this.health + 1);
  }

  /** A timely ack. */
  lower(): void {
    this.health = Math.max(0, this.health - 1);
  }

  /** Our sense of time was wrong (paused, starved): raise the score and accuse nobody for a while. */
  degrade(now: number): void {
    this.raise();
    this.quietUntil = now + this.quietPeriodMs;
  }

  /** True while accusations are withheld after a pause. */
  isQuiet(now: number): boolean {
    return now < this.quietUntil;
  }

  /** A timeout scaled by the score: `timeoutMs` · (score + `base`). */
  scale(timeoutMs: number, base = 1): number {
    return timeoutMs * (this.health + base);
  }

  /**
   * Marks the start of a probe tick; true when the tick came late and the score was raised.
   * Ticks do not overlap: one is due an interval after the last one started, or when that one
   * ended if it ran longer (waiting on timeouts is not lateness). Later than that, our own
   * timer was late: we were paused or starved, so our sense of elapsed time is wrong.
   */
  tickStarted(now: number, intervalMs: number, timeoutMs: number): boolean {
    let late = false;
    if (this.lastTickAt !== undefined) {
      const dueAt = Math.max(this.lastTickAt + intervalMs, this.lastTickEndedAt ?? -Infinity);
      if (now - dueAt > intervalMs * this.health + timeoutMs) {
        this.degrade(now);
        late = true;
      }
    }
    this.lastTickAt = now;
    return late;
  }

  /** Marks the end of a probe tick (see `tickStarted`). */
  tickEnded(now: number): void {
    this.lastTickEndedAt = now;
  }
}
