/**
 * A hybrid logical clock folded into one millisecond number, so stamps keep the page's
 * `lastUpdate: ms since epoch` wire format. A stamp is never behind the newest stamp this
 * server has seen, so a server with a slow wall clock still orders its own changes after
 * everything it has heard. Stamps further ahead of the wall clock than `maxSkewMs` are
 * refused, so one server with a bad clock cannot pin an entry in the future.
 */
export class HybridClock {
  private latest = 0;

  constructor(
    private readonly wallClock: () => number,
    readonly maxSkewMs: number,
  ) {}

  /** Wall-clock time, for ages and deadlines (not for stamps). */
  physicalNow(): number {
    return Math.floor(this.wallClock());
  }

  /** A new stamp, later than every stamp issued or accepted before. */
  tick(): number {
    this.latest = Math.max(Math.floor(this.wallClock()), this.latest + 1);
    return this.latest;
  }

  /** True when a remote stamp is acceptable (not too far in the future); accepted stamps advance the clock. */
  observe(stamp: number): boolean {
    if (!this.isAcceptable(stamp)) return false;
    if (stamp > this.latest) this.latest = stamp;
    return true;
  }

  isAcceptable(stamp: number): boolean {
    return Number.isSafeInteger(stamp) && stamp >= 0 && stamp <= this.wallClock() + this.maxSkewMs;
  }
}
