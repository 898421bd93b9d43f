/** Host and port to listen on, taken from SHAZBOT_BASE_URL (the demo runs on loopback). */
export function listenAddress(): { host: string; port: number } {
  const url = new URL(process.env.SHAZBOT_BASE_URL ?? 'http://127.0.0.1:3000/');
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}
