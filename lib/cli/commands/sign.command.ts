import type { CliCommand } from '../cli-command.js';
import { clusterName, secretFrom } from '../cli-environment.js';
import { UsageError } from '../cli-errors.js';
import { baseUrlArgument, ENVIRONMENT_HELP, noExtraArguments } from '../cli-options.js';
import { signatureFor } from '../signed-request.js';

/**
 * The path a server verifies and the query it does not: a server signs and checks the logical
 * path `/<prefix>/<endpoint>` only (security/request-signature.ts), so how the URL's query or
 * fragment is spelt neither breaks nor bends the signature.
 */
function splitQuery(path: string): { signed: string; query: string } {
  const sent = path.split('#')[0]; // a fragment never leaves the client
  const at = sent.indexOf('?');
  return at < 0 ? { signed: sent, query: '' } : { signed: sent.slice(0, at), query: sent.slice(at) };
}

export const signCommand: CliCommand = {
  name: 'sign',
  summary: 'print an Authorization header for curl',
  help: `usage: clustershazbot sign <METHOD> <path> [json-body] --url <baseUrl>

Prints the Authorization header of one request, signed with SHAZBOT_SECRET for
SHAZBOT_CLUSTER, for a tool that cannot sign (curl). <path> is the logical path,
/<prefix>/<endpoint>, whatever the base URL's own path. A header is accepted once, within
the signature window (300 s by default). Send the body exactly as given: the signature
covers its canonical JSON (keys sorted), and a receiver accepts either form.
A query (?include=all) is not part of what servers verify: the header is signed for the
path without it, a note on stderr says so; send the request with the query as given.

options:
  --url U               the server the request is for: its own base URL (SHAZBOT_BASE_URL); the
                        signature is good only there
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  curl -H "Authorization: $(SHAZBOT_SECRET=… npx clustershazbot sign GET /clustershazbot/list --url http://10.0.0.5:3000/)" http://10.0.0.5:3000/clustershazbot/list`,
  options: { url: { type: 'string' } },
  async run(positionals, values) {
    noExtraArguments(positionals, 3, 'sign');
    const [method, path, json] = positionals;
    if (!method || !path) throw new UsageError('sign needs a method and a path, e.g. sign GET /clustershazbot/list');
    if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`"${method}" is not an HTTP method`);
    if (!path.startsWith('/')) throw new UsageError(`the path "${path}" must start with /, e.g. /clustershazbot/list`);
    const { signed, query } = splitQuery(path);
    if (values.url === undefined) throw new UsageError('sign needs --url, the base URL of the server the request is for: a signature is good only there');
    const target = baseUrlArgument(String(values.url), 'sign --url');
    let body: unknown;
    try {
      body = json === undefined ? undefined : JSON.parse(json);
    } catch {
      throw new UsageError('the body is not valid JSON');
    }
    const header = signatureFor(target, { method, path: signed, cluster: clusterName(), secret: secretFrom('SHAZBOT_SECRET'), body });
    if (query.length > 1) process.stderr.write(`note: servers verify the path without its query: signed ${signed}; send the request with ${query} as given\n`);
    process.stdout.write(`${header}\n`);
    return 0;
  },
};
