import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../cli-errors.js';
import { baseUrlArgument, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments } from '../cli-options.js';
import { printRaw } from '../raw-output.js';
import { signedRequest, type SignedCall } from '../signed-request.js';

export const controlCommand: CliCommand = {
  name: 'control',
  summary: 'take a server offline or back online: one signed request, no waiting',
  help: `usage: clustershazbot control <baseUrl> --offline|--online [--member URL]

Sends one POST <prefix>/control, signed with SHAZBOT_CONTROL_SECRET, and prints the answer
as "<status> <body>". It does not wait for the cluster to learn of it: drain and undrain do.

options:
  --offline             take the server offline (it keeps running and gossiping)
  --online              bring it back online
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_CONTROL_SECRET=… npx clustershazbot control http://10.0.0.5:3000/ --offline
  200 {"success":true}`,
  options: { ...CONNECTION_OPTIONS, ...MEMBER_OPTION, offline: { type: 'boolean' }, online: { type: 'boolean' } },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'control');
    const baseUrl = baseUrlArgument(positionals[0], 'control');
    if (!!values.offline === !!values.online) throw new UsageError('control takes exactly one of --offline, --online');
    const connection = connectionFrom(values);
    const call: SignedCall = { method: 'POST', endpoint: 'control', secretVariable: 'SHAZBOT_CONTROL_SECRET', body: { message: 'control', online: !!values.online }, signedFor: memberOption(values, baseUrl, 'control') };
    return printRaw(await signedRequest(baseUrl, call, connection), baseUrl, call, connection);
  },
};
