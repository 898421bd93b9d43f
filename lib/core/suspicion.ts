/**
 * Lifeguard's suspicion timeout: it starts at `maxMult` × the minimum and shrinks toward the
 * minimum, 4 · max(1, log10 N) probe intervals by default, as independent confirmations
 * arrive (log-scaled, reaching the minimum at `expectedConfirmations`). References:
 * Dadgar et al., "Lifeguard: Local Health Awareness for More Accurate Failure Detection"
 * (2018); hashicorp/memberlist suspicion.go.
 */
export function suspicionTimeoutMs(opts: {
  clusterSize: number;
  confirmations: number;
  probeIntervalMs: number;
  suspicionMult: number;
  suspicionMaxMult: number;
  expectedConfirmations: number;
}): number {
  const min = opts.suspicionMult * Math.max(1, Math.log10(Math.max(1, opts.clusterSize))) * opts.probeIntervalMs;
  const max = opts.suspicionMaxMult * min;
  if (opts.expectedConfirmations < 1) return min;
  const fraction = Math.log(Math.max(0, opts.confirmations) + 1) / Math.log(opts.expectedConfirmations + 1);
  return Math.max(min, Math.floor(max - (max - min) * fraction));
}

/** One running suspicion: when this server learned it, and who independently suspected. */
export interface Suspicion {
  startedAt: number;
  confirmers: Set<string>;
}

/**
 * Flap damping: every state change of a server (alive, suspect, offline) adds 1 to its penalty, which
 * halves every `halfLifeMs`. Above `threshold`, the suspicion timeout for that server is
 * multiplied by (1 + penalty − threshold), so a flapping server stays a (suspect) member
 * through short outages instead of flooding the cluster with offline/online changes.
 */
export class FlapDamper {
  private readonly penalties = new Map<string, { penalty: number; at: number }>();
  /** Penalties are swept when the map reaches this size (amortised O(1) per record). */
  private sweepAt = 64;

  constructor(
    private readonly halfLifeMs: number,
    private readonly threshold: number,
  ) {}

  record(baseUrl: string, now: number): void {
    this.penalties.set(baseUrl, { penalty: this.penalty(baseUrl, now) + 1, at: now });
    if (this.penalties.size >= this.sweepAt) {
      // a penalty that has decayed to nothing is the same as none: without the sweep, the map
      // would keep one record per server that ever changed state
      for (const url of this.penalties.keys()) if (this.penalty(url, now) < 0.01) this.penalties.delete(url);
      this.sweepAt = Math.max(64, this.penalties.size * 2);
    }
  }

  penalty(baseUrl: string, now: number): number {
    const p = this.penalties.get(baseUrl);
    if (!p) return 0;
    return p.penalty * 0.5 ** ((now - p.at) / this.halfLifeMs);
  }

  factor(baseUrl: string, now: number): number {
    return 1 + Math.max(0, this.penalty(baseUrl, now) - this.threshold);
  }

  forget(baseUrl: string): void {
    this.penalties.delete(baseUrl);
  }
}
