import type { ParseArgsConfig } from 'node:util';
import { InvalidBaseUrlError, normalizeBaseUrl } from '../core/base-url.js';
import { DEFAULT_ROUTE_PREFIX } from '../clustershazbot.constants.js';
import type { OptionValues } from './cli-command.js';
import { clusterName } from './cli-environment.js';
import { UsageError } from './cli-errors.js';
import type { ConnectionSettings } from './signed-request.js';

/** Options every command that talks to a server takes. */
export const CONNECTION_OPTIONS = {
  prefix: { type: 'string', default: DEFAULT_ROUTE_PREFIX },
  'request-timeout': { type: 'string', default: '5' },
} satisfies NonNullable<ParseArgsConfig['options']>;

/** Their lines in each command's help. */
export const CONNECTION_HELP = `  --prefix P            the servers' route prefix (default ${DEFAULT_ROUTE_PREFIX})
  --request-timeout S   seconds to wait for each answer (default 5)`;

/**
 * `--member URL`, for the commands that send to one server: its own base URL (SHAZBOT_BASE_URL,
 * as the cluster knows it), when <baseUrl> reaches it another way (a tunnel, a proxy, a port
 * forward). Requests go to <baseUrl> and are signed for the member, as `sign --url` signs: a
 * server accepts only signatures that name its own base URL.
 */
export const MEMBER_OPTION = { member: { type: 'string' } } satisfies NonNullable<ParseArgsConfig['options']>;

/** Its lines in each command's help. */
export const MEMBER_HELP = `  --member URL          the server's own base URL (SHAZBOT_BASE_URL, as the cluster knows it),
                        when <baseUrl> reaches it another way (a tunnel, a proxy): requests go to
                        <baseUrl>, signed for URL (default: <baseUrl>)`;

/**
 * The base URL to sign for: `--member` in normal form, or `target` without it.
 * @throws UsageError when it is not an http(s) base URL
 */
export function memberOption(values: OptionValues, target: string, command: string): string {
  return values.member === undefined ? target : baseUrlArgument(String(values.member), `${command} --member`);
}

/** The common lines at the end of each command's help. */
export const ENVIRONMENT_HELP = `environment:
  SHAZBOT_SECRET          gossip secret (the first of a comma-separated list signs)
  SHAZBOT_CONTROL_SECRET  control secret (control, drain, undrain)
  SHAZBOT_CLUSTER         cluster name the servers use (default "default")
  Secrets are read only from the environment, never from arguments.
exit codes: 0 done, 1 a server answered an error (401 wrong secret, 403 another cluster, …),
  2 usage (bad option, URL or missing secret), 3 a server could not be reached,
  4 drain/undrain not confirmed before --timeout`;

export function connectionFrom(values: OptionValues): ConnectionSettings {
  const prefix = String(values.prefix ?? DEFAULT_ROUTE_PREFIX).replace(/^\/+|\/+$/g, '');
  if (!prefix || /[?#\s]/.test(prefix)) throw new UsageError(`--prefix "${String(values.prefix)}" is not a route prefix`);
  return { prefix, cluster: clusterName(), timeoutMs: secondsOption(values, 'request-timeout') * 1000 };
}

/**
 * The command's base URL argument in normal form.
 * @throws UsageError when it is missing or not an http(s) base URL
 */
export function baseUrlArgument(raw: string | undefined, command: string): string {
  if (!raw) throw new UsageError(`${command} needs a server's base URL, e.g. http://10.0.0.5:3000/`);
  try {
    return normalizeBaseUrl(raw);
  } catch (error) {
    const reason = error instanceof InvalidBaseUrlError ? error.message : 'invalid base URL';
    throw new UsageError(`"${raw}" is not a server's base URL (${reason}); e.g. http://10.0.0.5:3000/`);
  }
}

/** A positive number of seconds. @throws UsageError */
export function secondsOption(values: OptionValues, name: string): number {
  const raw = values[name];
  const seconds = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--${name} takes a positive number of seconds, not "${String(raw)}"`);
  }
  return seconds;
}

/** One of `allowed`. @throws UsageError */
export function choiceOption<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T {
  const raw = String(values[name]);
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} takes ${allowed.join(' or ')}, not "${raw}"`);
  return raw as T;
}

/** Fails when more positional arguments were given than the command takes. @throws UsageError */
export function noExtraArguments(positionals: string[], max: number, command: string): void {
  if (positionals.length > max) throw new UsageError(`${command}: unexpected argument "${positionals[max]}"`);
}
