import { compareEntries, type MemberEntry } from './membership-view.js';

/**
 * Two processes claiming one base URL (a copy-pasted configuration, a container restarted
 * while the old one still runs): each refutes the other's word about "itself" with a newer
 * stamp, forever. A predecessor's stale entries make a restarted process refute once or twice;
 * a live twin makes it refute again and again. Past `refutations` within `windowMs`, the
 * conflict is declared and resolved the way Serf resolves name conflicts: one process gives
 * the address up (see ClusterEngine.resolveConflict), so the cluster settles.
 */
export interface AddressConflict {
  /** The URL both processes claim (this server's base URL). */
  url: string;
  /** This process's generation (its start stamp) and the other's. */
  generation: number;
  rivalGeneration: number;
  /**
   * `deciding`: the self-check is running; `yielded`: this process gave the URL up (the URL
   * reaches the other one, or this one is the younger), accuses nobody and stamps nothing until
   * the URL reaches it again; `kept`: this process keeps the URL, the other should yield.
   */
  role: 'deciding' | 'yielded' | 'kept';
  /** When the conflict was declared (ms, this server's clock). */
  since: number;
}

export class AddressConflictDetector {
  private refutedAt: number[] = [];
  private lastRivalAt = -Infinity;
  private current?: AddressConflict;
  /** The newest word of another process about our URL: what the cluster says of the rival. */
  private rivalWord?: MemberEntry;
  /** Rivals this process took the address back from after they left (see rivalGone). */
  private readonly leftRivals = new Set<number>();

  /**
   * @param refutations refutations of another generation's word within `windowMs` that make a conflict
   * @param quietMs a kept conflict ends when the other process has said nothing this long
   */
  constructor(
    private readonly url: string,
    private readonly refutations = 3,
    private readonly windowMs = 120_000,
    private readonly quietMs = 120_000,
  ) {}

  get conflict(): AddressConflict | undefined {
    return this.current && { ...this.current };
  }

  /** Another process's word about our URL beat ours; true when this makes a new conflict. */
  noteRival(generation: number, ourGeneration: number, now: number): boolean {
    this.lastRivalAt = now;
    this.refutedAt = this.refutedAt.filter((t) => now - t < this.windowMs);
    this.refutedAt.push(now);
    if (this.current) {
      this.current.rivalGeneration = generation;
      return false;
    }
    if (this.refutedAt.length < this.refutations) return false;
    this.current = { url: this.url, generation: ourGeneration, rivalGeneration: generation, role: 'deciding', since: now };
    return true;
  }

  /** Another process's word about our URL (see Membership.onRival): the newest is kept, and names the rival. */
  noteRivalWord(entry: MemberEntry): void {
    if (this.rivalWord && compareEntries(entry, this.rivalWord) <= 0) return;
    this.rivalWord = entry;
    if (this.current && entry.generation) this.current.rivalGeneration = entry.generation;
  }

  /**
   * How the rival holding our URL is gone, or undefined while it is not: the cluster holds its
   * generation offline, declared by another server (`failed`: its failure detector found it
   * dead) or by its own word (`left`). A drained process says "offline" by its own word too,
   * alive; so a left rival counts once per generation: taken back from a drained one, the URL
   * is fought over and yielded again, and then kept yielded.
   */
  rivalGone(): 'failed' | 'left' | undefined {
    const word = this.rivalWord;
    if (!this.current || !word || word.online || !word.generation) return undefined;
    if (word.by && word.by !== word.baseUrl) return 'failed';
    return this.leftRivals.has(word.generation) ? undefined : 'left';
  }

  /** The address was taken back from a rival that `rivalGone` found gone. */
  noteTakenBack(how: 'failed' | 'left', rivalGeneration: number): void {
    if (how === 'left') this.leftRivals.add(rivalGeneration);
    this.clear();
  }

  /** The other process spoke again (a self-check of its own reached us): the conflict goes on. */
  touch(generation: number, now: number): void {
    this.lastRivalAt = now;
    if (this.current) this.current.rivalGeneration = generation;
  }

  decide(role: 'yielded' | 'kept'): void {
    if (this.current) this.current.role = role;
  }

  /** A conflict known at once (the URL reaches the other process): declared and decided together. */
  declare(rivalGeneration: number, ourGeneration: number, role: 'yielded' | 'kept', now: number): void {
    this.current = { url: this.url, generation: ourGeneration, rivalGeneration, role, since: now };
    this.lastRivalAt = now;
  }

  /** A kept conflict is over once the other process has been quiet for `quietMs`. */
  expireIfQuiet(now: number): boolean {
    if (this.current?.role !== 'kept' || now - this.lastRivalAt < this.quietMs) return false;
    this.clear();
    return true;
  }

  clear(): void {
    this.current = undefined;
    this.refutedAt = [];
    this.rivalWord = undefined;
  }
}
