import type { CliCommand } from '../cli-command.js';
import { clusterName, secretFrom } from '../cli-environment.js';
import { UsageError } from '../cli-errors.js';
import { printRaw } from '../raw-output.js';
import { signedRequest } from '../signed-request.js';

export const controlCommand: CliCommand = {
  name: 'control',
  summary: 'take a server offline or back online (one signed request)',
  help: '',
  options: { offline: { type: 'boolean' }, online: { type: 'boolean' }, prefix: { type: 'string', default: 'clustershazbot' } },
  async run([baseUrl], values) {
    if (!baseUrl || values.offline === values.online) throw new UsageError('control needs a base URL and exactly one of --offline, --online');
    const secret = secretFrom('SHAZBOT_CONTROL_SECRET');
    const prefix = String(values.prefix).replace(/^\/+|\/+$/g, '');
    const response = await signedRequest(baseUrl, { method: 'POST', endpoint: 'control', secret, body: { message: 'control', online: !!values.online } }, { prefix, cluster: clusterName(), timeoutMs: 10_000 });
    return printRaw(response);
  },
};
