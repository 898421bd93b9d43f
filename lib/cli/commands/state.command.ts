import type { CliCommand } from '../cli-command.js';
import { baseUrlArgument, choiceOption, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments } from '../cli-options.js';
import { printRaw } from '../raw-output.js';
import { signedRequest, type SignedCall } from '../signed-request.js';

export const stateCommand: CliCommand = {
  name: 'state',
  summary: "print every server's key/value state as one server holds it",
  help: `usage: clustershazbot state <baseUrl> [--include live|all] [--member URL]

Prints the answer of the server's GET <prefix>/state, signed with SHAZBOT_SECRET, as
"<status> <body>": every server's keys as this server holds them, {"<baseUrl>": {"<key>": value}}.

options:
  --include live|all    live: the keys of online and suspect servers (the default); all: also
                        those of offline servers this server still holds (GET <prefix>/state?include=all)
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… npx clustershazbot state http://10.0.0.5:3000/
  200 {"http://10.0.0.5:3000/":{"version":"2.4.1"}}`,
  options: { ...CONNECTION_OPTIONS, ...MEMBER_OPTION, include: { type: 'string', default: 'live' } },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'state');
    const baseUrl = baseUrlArgument(positionals[0], 'state');
    const connection = connectionFrom(values);
    const include = choiceOption(values, 'include', ['live', 'all'] as const);
    const call: SignedCall = { method: 'GET', endpoint: 'state', secretVariable: 'SHAZBOT_SECRET', signedFor: memberOption(values, baseUrl, 'state'), ...(include === 'all' ? { query: { include } } : {}) };
    return printRaw(await signedRequest(baseUrl, call, connection), baseUrl, call, connection);
  },
};
