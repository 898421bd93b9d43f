import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../cli-errors.js';
import { baseUrlArgument, choiceOption, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments } from '../cli-options.js';
import { readList, readState } from '../cluster-reads.js';
import { MEMBER_STATUSES, memberRows, type MemberRow, type MemberStatus } from '../member-rows.js';
import { formatAge, renderTable } from '../output-format.js';

/** `--status online,suspect`: the statuses to keep. @throws UsageError */
export function statusFilter(raw: string | undefined): Set<MemberStatus> | undefined {
  if (raw === undefined) return undefined;
  const wanted = raw.split(',').map((s) => s.trim().toLowerCase());
  const unknown = wanted.filter((s) => !(MEMBER_STATUSES as readonly string[]).includes(s));
  if (unknown.length || wanted.length === 0) throw new UsageError(`--status takes ${MEMBER_STATUSES.join(', ')} (comma-separated), not "${raw}"`);
  return new Set(wanted as MemberStatus[]);
}

/** The members table, as `members` prints it. */
export function membersTable(rows: MemberRow[], now = Date.now()): string {
  return renderTable(
    ['ADDRESS', 'STATUS', 'MONITOR', 'LAST UPDATE', 'DECLARED BY', 'KEYS'],
    rows.map((r) => [r.address, r.status, r.monitor ? 'yes' : 'no', formatAge(r.lastUpdate, now), r.declaredBy ?? '-', r.stateKeys === undefined ? '?' : String(r.stateKeys)]),
  );
}

export const membersCommand: CliCommand = {
  name: 'members',
  summary: 'list the members one server knows, as a table or JSON',
  help: `usage: clustershazbot members <baseUrl> [--format table|json] [--status online,suspect,offline] [--member URL]

Prints the members the server at <baseUrl> knows, one per line, like \`serf members\`:
its address, status (online, suspect: still a member but not answering probes, offline),
whether it is a monitor, how long ago its entry last changed, which server declared it
suspect or offline ("itself" when it left or was drained), and how many key/value state
keys it has. Reads the server's signed GET <prefix>/list and GET <prefix>/state.

options:
  --format F            table (default) or json: {"members":[{address, status, monitor,
                        lastUpdate (ms since epoch), ageSeconds, declaredBy, stateKeys}]}
  --status S            only members in these statuses, comma-separated: online,suspect,offline
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… npx clustershazbot members http://10.0.0.5:3000/ --status suspect,offline`,
  options: { ...CONNECTION_OPTIONS, ...MEMBER_OPTION, format: { type: 'string', default: 'table' }, status: { type: 'string' } },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'members');
    const baseUrl = baseUrlArgument(positionals[0], 'members');
    const format = choiceOption(values, 'format', ['table', 'json'] as const);
    const wanted = statusFilter(values.status as string | undefined);
    const connection = connectionFrom(values);
    const signedFor = memberOption(values, baseUrl, 'members');
    const [list, state] = await Promise.all([readList(baseUrl, connection, signedFor), readState(baseUrl, connection, signedFor)]);
    const now = Date.now();
    const rows = memberRows(list, state).filter((r) => !wanted || wanted.has(r.status));
    if (format === 'json') {
      const members = rows.map((r) => ({ ...r, ageSeconds: Math.round((now - r.lastUpdate) / 100) / 10 }));
      process.stdout.write(`${JSON.stringify({ members }, null, 2)}\n`);
    } else {
      process.stdout.write(membersTable(rows, now));
    }
    return 0;
  },
};
