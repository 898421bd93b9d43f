import type { CliCommand } from '../cli-command.js';
import { baseUrlArgument, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments, secondsOption } from '../cli-options.js';
import { describeRollout, rollOutStatus } from '../status-rollout.js';

export const undrainCommand: CliCommand = {
  name: 'undrain',
  summary: 'bring a drained server back online and wait until every member sees it online',
  help: `usage: clustershazbot undrain <baseUrl> [--timeout 60] [--interval 0.5] [--member URL]

Brings the server at <baseUrl> back online by control, then waits until every member the
server sees online or suspect shows it online. A progress line on stderr counts the members
that agree; members that cannot be reached are listed, not waited for.
Sends POST <prefix>/control signed with SHAZBOT_CONTROL_SECRET; reads each member's
GET <prefix>/list signed with SHAZBOT_SECRET. Exit code 0 once every reachable member shows
it online, 4 if some still did not at --timeout.

options:
  --timeout S           seconds to wait for every member to agree (default 60)
  --interval S          seconds between polls of the members (default 0.5)
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… SHAZBOT_CONTROL_SECRET=… npx clustershazbot undrain http://10.0.0.5:3000/`,
  options: { ...CONNECTION_OPTIONS, timeout: { type: 'string', default: '60' }, interval: { type: 'string', default: '0.5' }, ...MEMBER_OPTION },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'undrain');
    const target = baseUrlArgument(positionals[0], 'undrain');
    const member = memberOption(values, target, 'undrain');
    const options = { target, member, online: true, connection: connectionFrom(values), timeoutMs: secondsOption(values, 'timeout') * 1000, intervalMs: secondsOption(values, 'interval') * 1000 };
    const result = await rollOutStatus(options);
    process.stdout.write(describeRollout(true, member, result));
    return 0;
  },
};
