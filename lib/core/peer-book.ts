import { normalizeBaseUrl } from './base-url.js';
import type { RateLimitedLog } from './engine-log.js';

/** How long a server that answered 403 (another cluster) is ignored before it is tried again. */
const FOREIGN_IGNORE_MS = 10 * 60_000;
/** Foreign marks kept at most (whatever peers send, memory stays bounded). */
const MAX_FOREIGN = 10_000;

/**
 * What this server knows about peers beyond their membership entries: the master list's seeds,
 * peers that speak only the package page's format (no probe or sync endpoint), peers of another
 * cluster (403), and members that have acknowledged our probes. The address policy lives here
 * too: a URL it refuses never enters the view and is never contacted.
 */
export class PeerBook {
  private readonly seedUrls = new Set<string>();
  /**
   * Peers that answered 404 to probe or sync but whose signed answer to the page's gossip we
   * take: they have only the package page's endpoints (an Express app that routes gossip, list
   * and control alone). They get full lists, and their liveness is checked the same way.
   */
  private readonly pageFormat = new Set<string>();
  /** Peers that answered 404 everywhere (another route prefix, or no clustershazbot server there): when last. */
  private readonly notFound = new Map<string, number>();
  /** Peers that answered 401 (they refuse our signature: another secret, or a clock off by more than the window): when last. */
  private readonly unauthorized = new Map<string, number>();
  /** Servers that answered 403 (signed for another cluster): when they were marked, and until when they are ignored. */
  private readonly foreign = new Map<string, { at: number; until: number }>();
  /**
   * Members that have acknowledged one of our direct probes (see the detector's
   * `establishedMember`): a server that joined but does not listen yet (a Nest app gossips from
   * init, before listen) refuses too, and must get a suspicion's time to start answering.
   */
  private readonly answered = new Set<string>();
  /** The process (generation) each server runs, and when this server first learnt of it. */
  private readonly processes = new Map<string, { generation: number; since: number }>();
  private readonly foreignListeners = new Set<(url: string) => void>();
  /** Seeds refused (malformed, foreign, or refused by the address policy). */
  refused = 0;

  constructor(
    private readonly selfUrl: string,
    private readonly deps: {
      now: () => number;
      log?: RateLimitedLog;
      /** Address policy: a peer URL for which this is false never enters the view and is never contacted. */
      acceptPeer?: (baseUrl: string) => boolean;
    },
  ) {}

  /** Whether the address policy lets this URL into the view. */
  accepts(url: string): boolean {
    return this.deps.acceptPeer?.(url) ?? true;
  }

  /** Base URLs to try when no online peer is known (from the master list). */
  addSeeds(baseUrls: Iterable<string>): void {
    for (const raw of baseUrls) {
      try {
        const url = normalizeBaseUrl(raw);
        if (url !== this.selfUrl && !this.isForeign(url) && this.accepts(url)) this.seedUrls.add(url);
        else if (url !== this.selfUrl) this.refused++;
      } catch {
        this.refused++;
      }
    }
  }

  get seeds(): ReadonlySet<string> {
    return this.seedUrls;
  }

  markPageFormat(url: string): void {
    this.pageFormat.add(url);
  }

  /** A signed answer came from `url` on an endpoint of ours: it is not (or no longer) page-format or missing. */
  noteEndpointsFound(url: string): void {
    this.pageFormat.delete(url);
    this.notFound.delete(url);
    this.unauthorized.delete(url);
  }

  /**
   * `url` answered 401: it refuses this server's signature. Unsigned (we share no secret with
   * it), so it only feeds the diagnostics; a signed answer later clears it.
   */
  noteUnauthorized(url: string, now: number): void {
    const known = this.unauthorized.has(url);
    this.unauthorized.delete(url); // re-insert: most recent last
    this.unauthorized.set(url, now);
    if (this.unauthorized.size > MAX_FOREIGN) this.unauthorized.delete(this.unauthorized.keys().next().value!);
    if (!known) this.deps.log?.warnEvery('unauthorized', () => `${url} answered 401: it refuses this server's signature. SHAZBOT_SECRET (option secret) differs from its, or a clock is off by more than the signature window (SHAZBOT_SIGNATURE_WINDOW)`);
  }

  /** Peers that answered 401 since `since` (they refuse our signature), most recent last. */
  unauthorizedSince(since: number): string[] {
    return [...this.unauthorized].filter(([, at]) => at >= since).map(([url]) => url);
  }

  /** Servers ignored now as another cluster's (they answered 403 to a valid signature of ours). */
  foreignNow(): string[] {
    const now = this.deps.now();
    return [...this.foreign].filter(([, mark]) => mark.until > now).map(([url]) => url);
  }

  /** `url` answered 404 even to the page's gossip: nothing of ours listens under our route prefix there. */
  noteNotFound(url: string, now: number): void {
    this.pageFormat.delete(url);
    this.notFound.set(url, now);
    if (this.notFound.size > MAX_FOREIGN) this.notFound.delete(this.notFound.keys().next().value!);
  }

  /** Peers that answered 404 everywhere within the last `withinMs` (a likely route-prefix mismatch), most recent last. */
  notFoundSince(since: number): string[] {
    return [...this.notFound].filter(([, at]) => at >= since).map(([url]) => url);
  }

  isPageFormat(url: string): boolean {
    return this.pageFormat.has(url);
  }

  /**
   * A new process at `url` (it restarted): its predecessor's acks and page format tell nothing
   * about it, so a server that restarted at the same URL gets the grace of a new one.
   */
  forgetProcess(url: string): void {
    this.answered.delete(url);
    this.pageFormat.delete(url);
    this.notFound.delete(url);
    this.unauthorized.delete(url);
  }

  /** Notes the process a server's entry speaks for (its generation, 0 when unknown): the first time, it starts the clock of `knownSince`. */
  noteProcess(url: string, generation: number | undefined, now: number): void {
    const known = this.processes.get(url);
    if (!known || known.generation !== (generation ?? 0)) this.processes.set(url, { generation: generation ?? 0, since: now });
  }

  /** When this server first learnt of the process now at `url` (undefined: before it counted, e.g. a preloaded view). */
  knownSince(url: string): number | undefined {
    return this.processes.get(url)?.since;
  }

  noteAnswered(url: string): void {
    this.answered.add(url);
  }

  hasAnswered(url: string): boolean {
    return this.answered.has(url);
  }

  /** Forgets acks and processes of servers no longer in the view, once they outnumber it by a margin (amortised). */
  pruneAnswered(isMember: (url: string) => boolean, viewSize: number): void {
    if (this.answered.size > viewSize + 64) for (const url of this.answered) if (!isMember(url)) this.answered.delete(url);
    if (this.processes.size > viewSize + 64) for (const url of this.processes.keys()) if (!isMember(url)) this.processes.delete(url);
  }

  /** Called with each server newly marked foreign (the engine drops it from the view). */
  onForeign(listener: (url: string) => void): void {
    this.foreignListeners.add(listener);
  }

  /**
   * A server that answered 403 was reached with a valid signature for our cluster and said it
   * belongs to another (two clusters sharing a master list): drop it and ignore it for a while.
   */
  markForeign(url: string): void {
    const known = this.isForeign(url);
    const now = this.deps.now();
    this.foreign.set(url, { at: now, until: now + FOREIGN_IGNORE_MS });
    if (this.foreign.size > MAX_FOREIGN) this.foreign.delete(this.foreign.keys().next().value!);
    this.seedUrls.delete(url);
    for (const listener of this.foreignListeners) listener(url);
    if (!known) this.deps.log?.warnEvery('foreign', () => `${url} answered 403: it belongs to another cluster (or refuses ours); ignoring it for ${FOREIGN_IGNORE_MS / 60_000} min`);
  }

  /**
   * Whether `url` is ignored as another cluster's. An entry from a process that started after
   * the mark (its `generation`) is a new process there, and the mark is dropped.
   */
  isForeign(url: string, generation?: number): boolean {
    const mark = this.foreign.get(url);
    if (mark === undefined) return false;
    if (mark.until > this.deps.now() && !(generation !== undefined && generation > mark.at)) return true;
    this.foreign.delete(url);
    return false;
  }
}
