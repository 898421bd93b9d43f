import { UsageError } from './cli-errors.js';

/** The cluster name signatures carry: `SHAZBOT_CLUSTER`, default `default`. */
export function clusterName(): string {
  return process.env.SHAZBOT_CLUSTER || 'default';
}

/**
 * The secret that signs: the first of the comma-separated list in `variable`, as servers
 * sign. Secrets come only from the environment, never from arguments (which `ps` shows).
 * @throws UsageError when the variable is unset or empty
 */
export function secretFrom(variable: 'SHAZBOT_SECRET' | 'SHAZBOT_CONTROL_SECRET'): string {
  const secret = process.env[variable]?.split(',')[0]?.trim();
  if (!secret) throw new UsageError(`${variable} is not set: export the ${variable === 'SHAZBOT_SECRET' ? 'gossip' : 'control'} secret the servers use`);
  return secret;
}
