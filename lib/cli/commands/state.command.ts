import type { CliCommand } from '../cli-command.js';
import { clusterName, secretFrom } from '../cli-environment.js';
import { UsageError } from '../cli-errors.js';
import { printRaw } from '../raw-output.js';
import { signedRequest } from '../signed-request.js';

export const stateCommand: CliCommand = {
  name: 'state',
  summary: "print every server's key/value state as one server holds it",
  help: '',
  options: { prefix: { type: 'string', default: 'clustershazbot' } },
  async run([baseUrl], values) {
    if (!baseUrl) throw new UsageError('state needs a base URL');
    const secret = secretFrom('SHAZBOT_SECRET');
    const prefix = String(values.prefix).replace(/^\/+|\/+$/g, '');
    return printRaw(await signedRequest(baseUrl, { method: 'GET', endpoint: 'state', secret }, { prefix, cluster: clusterName(), timeoutMs: 10_000 }));
  },
};
