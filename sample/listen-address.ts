/** Variables the sample app reads besides the module's SHAZBOT_* ones. */
export const SAMPLE_VARIABLES = ['LISTEN_HOST', 'LISTEN_PORT', 'DEMO_LEASE_SECONDS', 'DEMO_KEY', 'DEMO_SINGLETON_LOG', 'DEMO_SINGLETON_NAME', 'DEMO_SINGLETON_UNGUARDED_NAME'] as const;

/**
 * Host and port to listen on: from SHAZBOT_BASE_URL, unless LISTEN_HOST or LISTEN_PORT is set
 * (a server behind a proxy advertises the proxy's address and listens elsewhere).
 */
export function listenAddress(): { host: string; port: number } {
  const url = new URL(process.env.SHAZBOT_BASE_URL ?? 'http://127.0.0.1:3000/');
  const port = Number(process.env.LISTEN_PORT || url.port || (url.protocol === 'https:' ? 443 : 80));
  return { host: process.env.LISTEN_HOST || url.hostname.replace(/^\[|\]$/g, ''), port };
}
