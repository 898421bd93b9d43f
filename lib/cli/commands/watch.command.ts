import type { CliCommand } from '../cli-command.js';
import { RefusedError, UnreachableError } from '../cli-errors.js';
import { baseUrlArgument, choiceOption, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments, secondsOption } from '../cli-options.js';
import { readList } from '../cluster-reads.js';
import { memberRows, statusCounts, type MemberRow } from '../member-rows.js';
import { describeMemberChange, membershipChanges } from '../membership-changes.js';
import { signedPath } from '../signed-request.js';

export const watchCommand: CliCommand = {
  name: 'watch',
  summary: 'print membership changes as one server sees them, until Ctrl-C',
  help: `usage: clustershazbot watch <baseUrl> [--interval 1] [--format text|json] [--member URL]

Prints a line for each membership change the server at <baseUrl> sees: a member joined,
became suspect, went offline, came back online, or was removed. It polls the server's signed
GET <prefix>/list every --interval seconds and compares each answer with the previous one,
so a change undone within one interval (a suspicion refuted at once) is not shown. A summary
goes to stderr first; the changes go to stdout. While the server cannot be reached it says
so on stderr and keeps polling. Ctrl-C stops it (exit code 0).

options:
  --interval S          seconds between polls (default 1)
  --format F            text (default) or json: one object per line,
                        {"at": ms since epoch, "address", "from", "to", "declaredBy"}
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… npx clustershazbot watch http://10.0.0.5:3000/
  2031-05-01T10:00:03.120Z  http://10.0.0.7:3000/  online -> suspect (declared by http://10.0.0.5:3000/)`,
  options: { ...CONNECTION_OPTIONS, ...MEMBER_OPTION, interval: { type: 'string', default: '1' }, format: { type: 'string', default: 'text' } },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'watch');
    const baseUrl = baseUrlArgument(positionals[0], 'watch');
    const intervalMs = secondsOption(values, 'interval') * 1000;
    const format = choiceOption(values, 'format', ['text', 'json'] as const);
    const connection = connectionFrom(values);
    const signedFor = memberOption(values, baseUrl, 'watch');

    let stopped = false;
    let wake = () => {};
    const stop = () => {
      stopped = true;
      wake();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);

    // the first poll must work: a wrong URL, secret or cluster is a mistake to report, not to wait out
    let previous: MemberRow[] = memberRows(await readList(baseUrl, connection, signedFor));
    const counts = statusCounts(previous);
    process.stderr.write(
      `watching ${baseUrl}: ${previous.length} members (${counts.online} online, ${counts.suspect} suspect, ${counts.offline} offline); ` +
        `polling GET ${signedPath(connection.prefix, 'list')} every ${intervalMs / 1000} s, Ctrl-C to stop\n`,
    );
    let unreachableSince: number | undefined;
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      try {
        const next = memberRows(await readList(baseUrl, connection, signedFor));
        if (unreachableSince !== undefined) process.stderr.write(`${baseUrl} answers again; changes since then are shown as one step\n`);
        unreachableSince = undefined;
        for (const change of membershipChanges(previous, next)) {
          process.stdout.write(format === 'json' ? `${JSON.stringify(change)}\n` : `${describeMemberChange(change)}\n`);
        }
        previous = next;
      } catch (error) {
        // an unreachable or restarting server is waited for; a refused signature is a mistake to report
        const transient = error instanceof UnreachableError || (error instanceof RefusedError && error.status === 503);
        if (!transient) throw error;
        if (unreachableSince === undefined) process.stderr.write(`${error.message}; still polling every ${intervalMs / 1000} s\n`);
        unreachableSince ??= Date.now();
      }
    }
    return 0;
  },
};
