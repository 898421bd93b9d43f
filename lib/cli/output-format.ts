/**
 * How long ago a stamp was, for people: `4s`, `3m12s`, `2h05m`, `3d04h`. A stamp ahead of this
 * machine's clock (skew) shows as `+2s ahead` rather than hiding it.
 */
export function formatAge(stampMs: number, nowMs = Date.now()): string {
  const ms = nowMs - stampMs;
  if (ms < -999) return `${formatDuration(-ms)} ahead`;
  return `${formatDuration(Math.max(0, ms))} ago`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Columns padded to their widest cell, two spaces apart, as `serf members` prints. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Seconds with one decimal, for progress lines. */
export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
