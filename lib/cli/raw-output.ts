import type { SignedResponse } from './signed-request.js';

/** The raw commands' output: `<status> <body>` on stdout; exit code 1 unless the status is 2xx. */
export function printRaw(response: SignedResponse): number {
  process.stdout.write(`${response.status} ${response.text}\n`);
  return response.status >= 200 && response.status < 300 ? 0 : 1;
}
