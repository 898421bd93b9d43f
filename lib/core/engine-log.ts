/** Where the engine reports what an operator may want to know. */
export interface EngineLog {
  warn(message: string): void;
  debug(message: string): void;
}

/** Calls every listener with every change; a listener that throws is logged, never propagated. */
export function notifyAll<T>(listeners: Iterable<(change: T) => void>, changes: readonly T[], kind: string, log?: EngineLog): void {
  for (const change of changes) {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        log?.warn(`${kind} listener threw: ${errorText(error)}`);
      }
    }
  }
}

/** A message for logs from anything thrown. */
export function errorText(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error).message : String(error);
}

/**
 * Warnings caused by remote input (a peer sending stamps from the future, state over our
 * limits, a foreign cluster) would repeat with every message: each kind is written at most
 * `perMinute` times a minute, and the next line written says how many were suppressed.
 * Counters carry the rest.
 */
export class RateLimitedLog implements EngineLog {
  private readonly windows = new Map<string, { startedAt: number; written: number; suppressed: number }>();

  constructor(
    private readonly log: EngineLog | undefined,
    private readonly now: () => number,
    private readonly perMinute = 3,
  ) {}

  /** A warning of `kind` (the rate is per kind); `message` is built only when it will be written. */
  warnEvery(kind: string, message: () => string): void {
    if (!this.log) return;
    const now = this.now();
    let window = this.windows.get(kind);
    if (!window || now - window.startedAt >= 60_000) {
      const suppressed = window?.suppressed ?? 0;
      window = { startedAt: now, written: 0, suppressed: 0 };
      this.windows.set(kind, window);
      if (this.windows.size > 256) this.windows.delete(this.windows.keys().next().value!); // kinds are a handful; bound them anyway
      if (suppressed > 0) this.log.warn(`(${suppressed} more like the next line in the last minute were not logged)`);
    }
    if (window.written >= this.perMinute) {
      window.suppressed++;
      return;
    }
    window.written++;
    this.log.warn(message());
  }

  warn(message: string): void {
    this.log?.warn(message);
  }

  debug(message: string): void {
    this.log?.debug(message);
  }
}
