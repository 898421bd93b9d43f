import type { CliCommand } from '../cli-command.js';
import { baseUrlArgument, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments } from '../cli-options.js';
import { printRaw } from '../raw-output.js';
import { signedRequest, type SignedCall } from '../signed-request.js';

export const listCommand: CliCommand = {
  name: 'list',
  summary: "print a server's view as JSON (online, suspect, offline)",
  help: `usage: clustershazbot list <baseUrl> [--member URL]

Prints the answer of the server's GET <prefix>/list, signed with SHAZBOT_SECRET, as
"<status> <body>": its view, {"online": [...], "offline": [...], "suspect": [...]}, each entry
{"baseUrl", "monitor", "lastUpdate", "by"?}. The members command prints the same as a table.

options:
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… npx clustershazbot list http://10.0.0.5:3000/
  200 {"online":[{"baseUrl":"http://10.0.0.5:3000/","monitor":false,"lastUpdate":1795411200000}],"offline":[],"suspect":[]}`,
  options: { ...CONNECTION_OPTIONS, ...MEMBER_OPTION },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'list');
    const baseUrl = baseUrlArgument(positionals[0], 'list');
    const connection = connectionFrom(values);
    const call: SignedCall = { method: 'GET', endpoint: 'list', secretVariable: 'SHAZBOT_SECRET', signedFor: memberOption(values, baseUrl, 'list') };
    return printRaw(await signedRequest(baseUrl, call, connection), baseUrl, call, connection);
  },
};
