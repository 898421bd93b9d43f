import { escapeForLog } from './core/log-text.js';

/** Every user-facing error text in one place; tests assert them. Secrets are never interpolated. */
export const messages = {
  missingVariable: (variable: string, option: string) =>
    `clustershazbot: ${variable} is not set (set the environment variable or pass the option "${option}")`,
  invalidNumber: (variable: string, raw: string, rule: string) =>
    `clustershazbot: ${variable} must be ${rule}, got "${raw}"`,
  invalidChoice: (variable: string, raw: string, allowed: readonly string[]) =>
    `clustershazbot: ${variable} must be one of ${allowed.join(', ')}, got "${raw}"`,
  invalidBoolean: (variable: string, raw: string, accepted: { true: readonly string[]; false: readonly string[] }) =>
    `clustershazbot: ${variable} must be one of ${accepted.true.map((yes, i) => `${yes}/${accepted.false[i]}`).join(', ')} (any case), got "${raw}"`,
  invalidBaseUrl: (variable: string, reason: string) =>
    `clustershazbot: ${variable} is not a usable base URL: ${reason}; it needs a scheme, host and port as peers reach this server, e.g. http://10.0.0.5:3000/`,
  configProblems: (problems: readonly string[]) =>
    `clustershazbot: ${problems.length} configuration problems, fix them all:\n${problems.map((p) => `  - ${p.replace(/^clustershazbot: /, '')}`).join('\n')}`,
  invalidMasterListUrl: (variable: string) =>
    `clustershazbot: ${variable} must be an http://, https:// or file:// URL${variable === 'SHAZBOT_MASTER_LIST' ? ', or dns://name:port or dns+srv://_service._proto.name' : ''} (value not shown: it may hold a token)`,
  fileUrlWithHost: (variable: string, host: string) =>
    `clustershazbot: ${variable} is a file URL with a host ("${escapeForLog(host, 64)}"): a file URL needs three slashes and an absolute path, e.g. file:///etc/clustershazbot/master.json`,
  masterListInvalid: (where: string, reason: string, retryInSeconds: number) =>
    `master list ${where} is invalid: ${reason}; fix it (an entry needs at least "baseUrl": {"online":[{"baseUrl":"http://10.0.0.5:3000/"}]}); starting from what is known, reading it again in ${retryInSeconds.toFixed(1)} s`,
  emptySecret: (variable: string) =>
    `clustershazbot: ${variable} holds an empty secret (comma-separated secrets must each be non-empty; value not shown)`,
  sameSecrets: () => 'clustershazbot: SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET (value not shown)',
  missingUpdateAuth: () =>
    'clustershazbot: SHAZBOT_MASTER_LIST_UPDATE_AUTH is not set but SHAZBOT_MASTER_LIST_UPDATE is an http(s) URL',
  invalidCluster: (variable: string, raw: string) =>
    `clustershazbot: ${variable} must be 1 to 64 letters, digits, '.', '_' or '-', got "${raw.slice(0, 80)}"`,
  wrongCluster: () => 'Forbidden: the request was signed for another cluster',
  tooDeep: (max: number) => `JSON body nested deeper than ${max} levels`,
  tooManyFailures: () => 'Too many failed authentications from this address; try again later',
  bodyTooLarge: (limit: number) => `Request body larger than ${limit} bytes`,
  nonceCacheFull: () => 'Too many signed requests within the signature window; try again later',
  notStarted: () => 'clustershazbot is not started: call shazbotStart() first',
  unsignedReplies: () =>
    'clustershazbot: a plain-function answer went out unsigned, and peers will take it for a failed exchange: pass { client: req.ip, setHeader: (name, value) => res.setHeader(name, value) } as the last argument',
  unauthorized: () => 'Unauthorized',
  masterListUnavailable: (where: string, reason: string, retryInSeconds: number, setting: string) =>
    `master list ${where} unavailable (${escapeForLog(reason)}): check ${setting}; this server must be able to read the list (a file that exists, a URL that answers 200); starting from what is known, retrying in ${retryInSeconds.toFixed(1)} s`,
  masterListUploadFailed: (where: string, reason: string, settings: string) =>
    `master list upload to ${where} failed (${escapeForLog(reason)}): check ${settings} and that this server may write there; the list keeps its last upload until the next announce`,
  masterListStoreUnavailable: (reason: string, retryInSeconds: number) =>
    `master list from the masterListStore option unavailable (${escapeForLog(reason)}): its load() must resolve a list; starting from what is known, retrying in ${retryInSeconds.toFixed(1)} s`,
  masterListStoreUploadFailed: (reason: string) =>
    `master list upload to the masterListStore option failed (${escapeForLog(reason)}): its save() rejected; the list keeps its last upload until the next announce`,
  invalidDiscoveryUrl: (variable: string, reason: string) => `clustershazbot: ${variable} ${reason}`,
  discoveryWithUpload: (variable: string, updateVariable: string) =>
    `clustershazbot: ${updateVariable} cannot be used when ${variable} is a dns:// or dns+srv:// URL (DNS is read-only: unset ${updateVariable})`,
  invalidDnsServers: (variable: string, reason: string) => `clustershazbot: ${variable}: ${reason}`,
  dnsFailed: (source: string, reason: string, servers: string, failures: number, keptSeeds: number, retryInSeconds: number) =>
    `DNS discovery ${source} failed (${reason}; asked ${servers}${failures > 1 ? `; ${failures} failures since the last report` : ''}); ` +
    `keeping ${keptSeeds} known seed(s), retrying in ${retryInSeconds.toFixed(1)} s`,
  dnsRecovered: (source: string, failures: number, seeds: number) => `DNS discovery ${source} resolves again after ${failures} failure(s): ${seeds} seed(s)`,
  dnsSeeds: (source: string, seeds: number, added: number, removed: number) => `DNS discovery ${source}: ${seeds} seed(s) (${added} new, ${removed} gone)`,
  dnsBadRecords: (source: string, details: string) => `DNS discovery ${source}: records left out: ${details}`,
  dnsSeedRefused: (source: string, url: string) => `DNS discovery ${source}: seed ${url} is refused by SHAZBOT_ALLOWED_PEERS (or is link-local / cloud metadata); not contacted`,
  promClientMissing: () =>
    'metrics are enabled (option "metrics" or SHAZBOT_METRICS) but prom-client is not installed: run `npm install prom-client`; continuing without metrics',
  singletonUnknownOption: (key: string) => `@ClusterSingleton(): unknown option "${key.slice(0, 40)}" (options: name, quorum)`,
  singletonBadName: (name: unknown) => `a cluster singleton's name must be a non-empty string, got ${JSON.stringify(name)?.slice(0, 80)}`,
  singletonNotMethod: (where: string) => `@ClusterSingleton() applies to methods only (${where})`,
  singletonUnbound: (name: string) =>
    `singleton ${name} did not run: no clustershazbot module found its instance. Provide the class in an application that imports ClustershazbotModule (or call shazbotStart() first in an Express app); with several modules in one process, only their own providers can be told apart`,
  singletonBadKey: (what: string, value: unknown) => `${what} must be a string, got ${typeof value}`,
  singletonBadCount: (value: unknown) => `owners(key, n): n must be a whole number ≥ 0, got ${JSON.stringify(value)?.slice(0, 40)}`,
  singletonAcquired: (name: string, reason: string) => `singleton ${name}: this server now runs it (${reason})`,
  singletonReleased: (name: string, reason: string) => `singleton ${name}: this server no longer runs it (${reason})`,
  singletonHandedOver: (names: string[], successors: string[], told: number) =>
    `shutting down: handed ${names.join(', ')} over to ${successors.join(', ')} (${told} of ${successors.length} told directly)`,
};
