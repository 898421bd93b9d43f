import { normalizeBaseUrl } from './base-url.js';
import type { EngineLog } from './engine-log.js';

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
  /** Peers that answered 404 to a sync: they speak only the page's full lists. */
  private readonly pageFormat = new Set<string>();
  /** Servers that answered 403 (signed for another cluster): ignored until the time given. */
  private readonly foreign = new Map<string, number>();
  /**
   * Members that have acknowledged one of our direct probes (see the detector's
   * `establishedMember`): a server that joined but does not listen yet (a Nest app gossips from
   * init, before listen) refuses too, and must get a suspicion's time to start answering.
   */
  private readonly answered = new Set<string>();
  private readonly foreignListeners = new Set<(url: string) => void>();
  /** Seeds refused (malformed, foreign, or refused by the address policy). */
  refused = 0;

  constructor(
    private readonly selfUrl: string,
    private readonly deps: {
      now: () => number;
      log?: EngineLog;
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

  isPageFormat(url: string): boolean {
    return this.pageFormat.has(url);
  }

  noteAnswered(url: string): void {
    this.answered.add(url);
  }

  hasAnswered(url: string): boolean {
    return this.answered.has(url);
  }

  /** Forgets acks of servers no longer in the view, once they outnumber it by a margin (amortised). */
  pruneAnswered(isMember: (url: string) => boolean, viewSize: number): void {
    if (this.answered.size > viewSize + 64) for (const url of this.answered) if (!isMember(url)) this.answered.delete(url);
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
    this.foreign.set(url, this.deps.now() + FOREIGN_IGNORE_MS);
    if (this.foreign.size > MAX_FOREIGN) this.foreign.delete(this.foreign.keys().next().value!);
    this.seedUrls.delete(url);
    for (const listener of this.foreignListeners) listener(url);
    if (!known) this.deps.log?.warn(`${url} answered 403: it belongs to another cluster (or refuses ours); ignoring it for ${FOREIGN_IGNORE_MS / 60_000} min`);
  }

  isForeign(url: string): boolean {
    const until = this.foreign.get(url);
    if (until === undefined) return false;
    if (until > this.deps.now()) return true;
    this.foreign.delete(url);
    return false;
  }
}
