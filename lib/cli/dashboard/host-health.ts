/**
 * What a member's host says about its health, where it says it: the host's own routes, not
 * the library's (the library adds no unauthenticated endpoint). Both are optional; a host
 * without them shows "–" on the dashboard.
 */

/** The overall status of a Terminus health answer (any status code: 503 carries it too), and the cluster indicator's. */
export function parseTerminusHealth(text: string): { status: string; cluster?: string } | undefined {
  try {
    const body = JSON.parse(text) as { status?: unknown; details?: Record<string, { status?: unknown }> };
    if (typeof body?.status !== 'string') return undefined;
    const cluster = body.details?.cluster?.status;
    return typeof cluster === 'string' ? { status: body.status, cluster } : { status: body.status };
  } catch {
    return undefined;
  }
}

/**
 * The value of one unlabelled sample in Prometheus' text exposition format, e.g.
 * `clustershazbot_health_score 0`; undefined when absent.
 */
export function prometheusValue(text: string, metric: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(rest.replace(/^\{[^}]*\}/, '').trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

/** GET of a host route (unsigned), text and status; undefined when it does not answer in time. */
export async function fetchHostRoute(baseUrl: string, path: string, timeoutMs: number): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(new URL(path.replace(/^\/+/, ''), baseUrl), { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}
