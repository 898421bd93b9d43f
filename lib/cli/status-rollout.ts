import { secretFrom } from './cli-environment.js';
import { CliError, EXIT, UsageError } from './cli-errors.js';
import { readList, setOnline } from './cluster-reads.js';
import { memberRows, type MemberStatus } from './member-rows.js';
import { secondsText } from './output-format.js';
import { ProgressLine } from './progress-line.js';
import type { ConnectionSettings } from './signed-request.js';

export interface RolloutOptions {
  /** Where the control request goes (normalised base URL): the server's own, or a tunnel or proxy to it. */
  target: string;
  /**
   * The target's base URL as the cluster knows it, its SHAZBOT_BASE_URL (normalised): the
   * requests sent to `target` are signed for it, since a server accepts only signatures that
   * name its own base URL. Equal to `target` when the CLI reaches the server directly.
   */
  member: string;
  /** true: undrain (back online); false: drain (offline). */
  online: boolean;
  connection: ConnectionSettings;
  timeoutMs: number;
  intervalMs: number;
}

/** How one observer answered the last poll. */
type Seen = { kind: 'confirmed' } | { kind: 'pending'; status: MemberStatus | 'absent' } | { kind: 'unreachable'; reason: string };

export interface RolloutResult {
  confirmed: string[];
  pending: { address: string; status: MemberStatus | 'absent' }[];
  unreachable: { address: string; reason: string }[];
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * drain / undrain: sends the control request to `target` (signed for `member`), then polls the
 * list of every member the target sees online or suspect (the target included) until each one that answers shows
 * `member` in the wanted status. Members that do not answer are reported, not waited for; the
 * target itself must confirm. Offline members are not asked: they are gone or drained.
 * Resolves when confirmed; rejects with exit code 4 at the deadline, listing who lags.
 */
export async function rollOutStatus(options: RolloutOptions): Promise<RolloutResult> {
  const { target, member, online, connection } = options;
  const verb = online ? 'undrain' : 'drain';
  const wanted: MemberStatus = online ? 'online' : 'offline';
  secretFrom('SHAZBOT_SECRET'); // both secrets are checked before anything is sent
  secretFrom('SHAZBOT_CONTROL_SECRET');

  const initial = memberRows(await readList(target, connection, member));
  if (!initial.some((r) => r.address === member)) {
    const known = initial.slice(0, 5).map((r) => r.address).join(', ');
    throw new UsageError(`${member} is not in the view of the server at ${target} (its members: ${known}${initial.length > 5 ? ', …' : ''}); pass --member with the server's base URL as the cluster knows it`);
  }
  // the server itself is asked at `target`; `member` is the same server under the name the cluster knows
  const isItself = (address: string) => address === member || address === target;
  const observers = new Set(initial.filter((r) => r.status !== 'offline' && !isItself(r.address)).map((r) => r.address));

  await setOnline(target, online, connection, member);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const progress = new ProgressLine();
  try {
    for (;;) {
      const timeoutMs = Math.max(250, Math.min(connection.timeoutMs, deadline - Date.now()));
      const poll = async (address: string): Promise<[string, Seen]> => {
        try {
          const rows = memberRows(await readList(address, { ...connection, timeoutMs }, address === target ? member : undefined));
          // members the target learns about while we wait are asked too
          if (address === target) for (const r of rows) if (r.status !== 'offline' && !isItself(r.address)) observers.add(r.address);
          const status = rows.find((r) => r.address === member)?.status ?? 'absent';
          return [address, status === wanted ? { kind: 'confirmed' } : { kind: 'pending', status }];
        } catch (error) {
          if (error instanceof CliError && error.exitCode === EXIT.usage) throw error;
          return [address, { kind: 'unreachable', reason: error instanceof Error ? error.message : String(error) }];
        }
      };
      const seen = new Map(await Promise.all([target, ...observers].map(poll)));
      const result: RolloutResult = { confirmed: [], pending: [], unreachable: [], elapsedMs: Date.now() - started };
      for (const [address, s] of seen) {
        if (s.kind === 'confirmed') result.confirmed.push(address);
        else if (s.kind === 'pending') result.pending.push({ address, status: s.status });
        else result.unreachable.push({ address, reason: s.reason });
      }
      const targetConfirmed = seen.get(target)?.kind === 'confirmed';
      const asked = seen.size - result.unreachable.length;
      const state = `${verb} ${member}: ${wanted} on ${result.confirmed.length} of ${asked} reachable members${result.unreachable.length ? `, ${result.unreachable.length} unreachable` : ''}`;
      progress.update(`${state}, ${secondsText(result.elapsedMs)}`, state);
      if (targetConfirmed && result.pending.length === 0) return result;
      if (Date.now() >= deadline) {
        const lagging = result.pending.map((p) => `${p.address} shows it ${p.status}`);
        if (!targetConfirmed && !result.pending.some((p) => p.address === target)) lagging.unshift(`${target} (the server itself) did not answer`);
        throw new CliError(`${verb} ${member} not confirmed after ${secondsText(result.elapsedMs)} (--timeout): ${lagging.join('; ')}`, EXIT.notConfirmed);
      }
      await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
    }
  } finally {
    progress.end();
  }
}

/** The closing lines of a confirmed drain or undrain. */
export function describeRollout(online: boolean, member: string, result: RolloutResult): string {
  const lines = [`${online ? 'undrained' : 'drained'} ${member}: ${online ? 'online' : 'offline'} on all ${result.confirmed.length} reachable members after ${secondsText(result.elapsedMs)}`];
  for (const u of result.unreachable) lines.push(`  not reached: ${u.reason}`);
  return lines.join('\n') + '\n';
}
