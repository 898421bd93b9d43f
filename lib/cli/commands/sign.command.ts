import type { CliCommand } from '../cli-command.js';
import { clusterName, secretFrom } from '../cli-environment.js';
import { UsageError } from '../cli-errors.js';
import { signatureFor } from '../signed-request.js';

export const signCommand: CliCommand = {
  name: 'sign',
  summary: 'print an Authorization header for curl',
  help: '',
  options: {},
  async run([method, path, json]) {
    if (!method || !path) throw new UsageError('sign needs a method and a path');
    let body: unknown;
    try {
      body = json === undefined ? undefined : JSON.parse(json);
    } catch {
      throw new UsageError('the body is not valid JSON');
    }
    process.stdout.write(`${signatureFor(undefined, { method, path, cluster: clusterName(), secret: secretFrom('SHAZBOT_SECRET'), body })}\n`);
    return 0;
  },
};
