import type { MemberRow, MemberStatus } from '../member-rows.js';
import type { MemberChange } from '../membership-changes.js';

/**
 * What the dashboard page receives from the CLI's local server (`GET /api/snapshot`, and each
 * `snapshot` event of `GET /api/events`): everything the page shows, already read and checked
 * by the CLI. It never holds a secret.
 */
export interface DashboardSnapshot {
  /** SHAZBOT_CLUSTER, as the CLI signs. */
  cluster: string;
  /** The base URL the dashboard was started with. */
  entry: string;
  /** The entry server's own base URL, when `entry` is a tunnel or proxy to it (`--member`). */
  member?: string;
  /** Whose view the members table shows (a base URL): the entry server, or another member while it does not answer. */
  source?: string;
  /** When that view was read, ms since epoch; absent until one was. */
  viewReadAt?: number;
  /** Why no server's view could be read on the last attempt. */
  error?: string;
  /** The CLI's refresh interval, ms. */
  intervalMs: number;
  members: MemberRow[];
  counts: Record<MemberStatus, number>;
  /** Every member, as the last sweep found it (asked one by one, in parallel). */
  servers: ServerReport[];
  agreement: Agreement;
  /** Membership changes seen between refreshes of the shown view, newest first (at most 100). */
  changes: MemberChange[];
  /**
   * Singleton owners and keys per owner (see ownershipReport): present once a server of the
   * shown view publishes its singletons. The page renders its section only then.
   */
  ownership?: OwnershipReport;
}

/** One member as the CLI found it when it asked it for its own view. */
export interface ServerReport {
  address: string;
  /** Its status in the shown view. */
  status?: MemberStatus;
  reachable: boolean;
  /** Why its view could not be read (unreachable, 401…). */
  error?: string;
  /** `viewFingerprint` of its view: equal fingerprints, equal views. */
  fingerprint?: string;
  /** Its view's size by status. */
  counts?: Record<MemberStatus, number>;
  /** Round trip of its list request, ms. */
  latencyMs?: number;
  /** From its host's health route (Terminus), when it has one: overall status and the cluster indicator's. */
  health?: { status: string; cluster?: string };
  /** Lifeguard's local health score (0 is healthy), from its host's Prometheus route, when it has one. */
  healthScore?: number;
  /** When it was asked, ms since epoch. */
  checkedAt: number;
}

/** Whether the reachable servers hold the same view: one fingerprint group means they agree. */
export interface Agreement {
  /** True when every reachable server's view has the same fingerprint. */
  agree: boolean;
  /** Servers by fingerprint, largest group first. */
  groups: { fingerprint: string; servers: string[] }[];
  /** When the sweep that found this ended, ms since epoch; absent before the first one. */
  sweptAt?: number;
}

/** Who holds each singleton and how the members split the key space (see `DashboardSnapshot.ownership`). */
export interface OwnershipReport {
  /** One row per singleton and server that holds it, sorted by name; `owner` is `none` while nobody holds it. */
  singletons: { name: string; owner: string }[];
  /** Each eligible member (online or suspect) with how many of 10,000 sample keys it owns. */
  keysPerOwner: { owner: string; keys: number }[];
}
