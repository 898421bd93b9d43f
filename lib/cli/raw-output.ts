import { EXIT } from './cli-errors.js';
import { explainRefusal, type ConnectionSettings, type SignedCall, type SignedResponse } from './signed-request.js';

/**
 * The raw commands' output (list, state, control), unchanged since the first CLI so scripts
 * keep working: `<status> <body>` on stdout. A status other than 2xx also gets a line on
 * stderr saying what to fix, and exit code 1.
 */
export function printRaw(response: SignedResponse, baseUrl: string, call: SignedCall, connection: ConnectionSettings): number {
  process.stdout.write(`${response.status} ${response.text}\n`);
  if (response.status >= 200 && response.status < 300) return EXIT.ok;
  process.stderr.write(`error: ${explainRefusal(response, baseUrl, call, connection)}\n`);
  return EXIT.refused;
}
