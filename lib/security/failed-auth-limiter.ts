import type { AuthRefusal } from './auth-refusal.js';

/**
 * Counts failed authentications per client address in a sliding minute; past `limit`, the
 * client's failures are answered 429 instead of 401 until its oldest failure leaves the
 * window. It never refuses a request whose signature is valid (the caller checks the
 * signature first): peers behind the same address as an attacker (NAT, a proxy, loopback)
 * keep talking. Bounded memory: at most `maxClients` addresses are tracked, the stalest
 * forgotten first.
 */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly listeners = new Set<(refusal: AuthRefusal) => void>();
  /** Requests refused for authentication since start (every failure, limited or not). */
  refusedTotal = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  /** False at once while no client has failed lately: the common case costs no lookup. */
  get anyFailures(): boolean {
    return this.failures.size > 0;
  }

  isBlocked(client: string): boolean {
    if (this.limit <= 0 || !this.failures.has(client)) return false;
    return this.recent(client).length >= this.limit;
  }

  /** Counts a refusal that says nothing against the client (a valid signature stamped before this process started). */
  countRefusal(): void {
    this.refusedTotal++;
  }

  /** Seconds until the client's oldest recent failure leaves the window (at least 1). */
  retryAfterSeconds(client: string): number {
    const oldest = this.failures.get(client)?.[0];
    return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  /** Calls `listener` with every failure recorded with its cause (the module logs them, rate-limited). */
  onFailure(listener: (refusal: AuthRefusal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts a failure of `client`; `refusal`, when given, is handed to the `onFailure` listeners. */
  recordFailure(client: string, refusal?: Omit<AuthRefusal, 'client'>): void {
    this.refusedTotal++;
    if (refusal) for (const listener of this.listeners) listener({ ...refusal, client });
    if (this.limit <= 0) return;
    const times = this.recent(client);
    times.push(this.now());
    this.failures.delete(client); // re-insert: Map order is then least recently failed first
    this.failures.set(client, times);
    if (this.failures.size > this.maxClients) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(client) ?? []).filter((t) => t > cutoff);
    if (times.length) this.failures.set(client, times);
    else this.failures.delete(client);
    return times;
  }
}
