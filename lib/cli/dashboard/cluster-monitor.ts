import { CliError } from '../cli-errors.js';
import { readList, readState } from '../cluster-reads.js';
import { memberRows, statusCounts, viewFingerprint, type ClusterState, type MemberRow } from '../member-rows.js';
import { membershipChanges, type MemberChange } from '../membership-changes.js';
import type { ConnectionSettings } from '../signed-request.js';
import type { Agreement, DashboardSnapshot, OwnershipReport, ServerReport } from './dashboard-snapshot.js';
import { ownershipReport } from './ownership-report.js';
import { fetchHostRoute, parseTerminusHealth, prometheusValue } from './host-health.js';

export interface MonitorOptions {
  /** The base URL the dashboard was started with (normalised). */
  entry: string;
  /**
   * The entry server's own base URL (normalised), when `entry` is a tunnel or proxy to it
   * (`--member`): requests to it go to `entry`, signed for `member`, in the view and in the
   * sweep, and so do its host's health and metrics routes. Other members are asked at their
   * own base URLs. Default: `entry` is the server's own base URL.
   */
  member?: string;
  connection: ConnectionSettings;
  /** Refresh interval of the shown view and pause between sweeps of every member, ms. */
  intervalMs: number;
  /** The hosts' Terminus route, relative to each base URL (e.g. `health`); undefined: not asked. */
  healthPath?: string;
  /** The hosts' Prometheus route (e.g. `metrics`); undefined: not asked. */
  metricsPath?: string;
  /** Members asked at once during a sweep (default 16). */
  concurrency?: number;
}

const MAX_CHANGES = 100;

/**
 * Reads the cluster for the dashboard, with signed requests, in two loops:
 * - the view: the entry server's list and state every interval (another member's while the
 *   entry does not answer), diffed into recent changes. This is what shows a killed server;
 * - the sweep: every member's own list (its fingerprint), and its host's health and metrics
 *   routes when it has them, a bounded number at a time, then a pause of one interval. It is
 *   slower on big clusters, so it does not hold up the view.
 * Listeners get a new snapshot after each view refresh and each sweep.
 */
export class ClusterMonitor {
  private members: MemberRow[] = [];
  private source: string | undefined;
  private viewReadAt: number | undefined;
  private error: string | undefined;
  private changes: MemberChange[] = [];
  private servers: ServerReport[] = [];
  private agreement: Agreement = { agree: false, groups: [] };
  private ownership: OwnershipReport | undefined;
  private readonly listeners = new Set<(snapshot: DashboardSnapshot) => void>();
  private running = false;
  private readonly wake = new Set<() => void>();
  private loops: Promise<void>[] = [];

  constructor(private readonly options: MonitorOptions) {}

  /** Starts both loops; the first view is read before this resolves, so a wrong secret fails fast. */
  async start(): Promise<void> {
    this.running = true;
    await this.refreshView(true);
    this.loops = [this.loop(() => this.refreshView(false)), this.loop(() => this.sweep())];
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const finish of [...this.wake]) finish();
    await Promise.all(this.loops);
  }

  onSnapshot(listener: (snapshot: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): DashboardSnapshot {
    const snapshot: DashboardSnapshot = {
      cluster: this.options.connection.cluster,
      entry: this.options.entry,
      intervalMs: this.options.intervalMs,
      members: this.members,
      counts: statusCounts(this.members),
      servers: this.servers,
      agreement: this.agreement,
      changes: this.changes,
    };
    if (this.options.member) snapshot.member = this.options.member;
    if (this.source) snapshot.source = this.source;
    if (this.viewReadAt !== undefined) snapshot.viewReadAt = this.viewReadAt;
    if (this.error) snapshot.error = this.error;
    if (this.ownership) snapshot.ownership = this.ownership;
    return snapshot;
  }

  private publish(): void {
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot);
  }

  /** Runs `step` every interval: due an interval after the previous one started, or at once if it ran longer. */
  private async loop(step: () => Promise<void>): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await step();
      if (this.running) await this.sleep(Math.max(0, this.options.intervalMs - (Date.now() - started)));
    }
  }

  /** A pause that `stop` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake.add(finish);
    });
  }

  /** The shown view: the entry's, or the first member of the last sweep that answered. */
  private async refreshView(first: boolean): Promise<void> {
    const entryMember = this.options.member ?? this.options.entry;
    const candidates = [entryMember, ...this.servers.filter((s) => s.reachable && s.address !== entryMember).map((s) => s.address)];
    let lastError: unknown;
    for (const member of candidates) {
      const address = this.addressOf(member);
      try {
        const [list, state] = await Promise.all([readList(address, this.options.connection, member), readState(address, this.options.connection, member).catch(() => undefined as ClusterState | undefined)]);
        const rows = memberRows(list, state);
        const readAt = Date.now();
        if (this.viewReadAt !== undefined) this.changes = [...membershipChanges(this.members, rows, readAt).reverse(), ...this.changes].slice(0, MAX_CHANGES);
        this.members = rows;
        this.ownership = ownershipReport(rows, state);
        this.source = member;
        this.viewReadAt = readAt;
        this.error = undefined;
        this.publish();
        return;
      } catch (error) {
        if (first) throw error; // the entry must answer at start: a wrong URL, secret or cluster is reported at once
        lastError = error;
      }
    }
    this.error = lastError instanceof CliError ? lastError.message : `no member answered: ${String(lastError)}`;
    this.publish();
  }

  /** Asks every member of the shown view for its own view (and health), `concurrency` at a time. */
  private async sweep(): Promise<void> {
    const queue = this.members.map((m) => m);
    const reports: ServerReport[] = [];
    const worker = async () => {
      for (let member = queue.shift(); member && this.running; member = queue.shift()) reports.push(await this.report(member));
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 16, queue.length) }, worker));
    if (!this.running) return;
    this.servers = reports.sort((a, b) => (a.address < b.address ? -1 : 1));
    this.agreement = agreementOf(this.servers, Date.now());
    this.publish();
  }

  /** Where a member is reached: the entry for the member it tunnels to (`member`), else its own base URL. */
  private addressOf(member: string): string {
    return member === this.options.member ? this.options.entry : member;
  }

  private async report(member: MemberRow): Promise<ServerReport> {
    const { connection, healthPath, metricsPath } = this.options;
    const address = this.addressOf(member.address);
    const started = Date.now();
    const [view, health, metrics] = await Promise.all([
      readList(address, connection, member.address).then(
        (list) => ({ list, latencyMs: Date.now() - started }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      ),
      healthPath === undefined ? undefined : fetchHostRoute(address, healthPath, connection.timeoutMs),
      metricsPath === undefined ? undefined : fetchHostRoute(address, metricsPath, connection.timeoutMs),
    ]);
    const report: ServerReport = { address: member.address, status: member.status, reachable: 'list' in view, checkedAt: Date.now() };
    if ('list' in view) {
      report.fingerprint = viewFingerprint(view.list);
      report.counts = statusCounts(memberRows(view.list));
      report.latencyMs = view.latencyMs;
    } else {
      report.error = view.error;
    }
    const parsedHealth = health && parseTerminusHealth(health.text);
    if (parsedHealth) report.health = parsedHealth;
    const score = metrics && metrics.status === 200 ? prometheusValue(metrics.text, 'clustershazbot_health_score') : undefined;
    if (score !== undefined) report.healthScore = score;
    return report;
  }
}

/** Reachable servers grouped by fingerprint, largest group first. */
export function agreementOf(servers: ServerReport[], sweptAt: number): Agreement {
  const groups = new Map<string, string[]>();
  for (const s of servers) if (s.fingerprint) groups.set(s.fingerprint, [...(groups.get(s.fingerprint) ?? []), s.address]);
  const sorted = [...groups].map(([fingerprint, members]) => ({ fingerprint, servers: members })).sort((a, b) => b.servers.length - a.servers.length);
  return { agree: sorted.length === 1, groups: sorted, sweptAt };
}
