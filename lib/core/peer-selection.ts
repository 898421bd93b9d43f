import type { MemberEntry } from './membership-view.js';

export interface PeerSelectionSettings {
  selfUrl: string;
  monitorPreference: number;
  offlineProbeProbability: number;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))];
}

/**
 * Chooses one gossip partner:
 * - with no online peer known, any offline server or master-list seed (bootstrap and recovery);
 * - otherwise, with probability `offlineProbeProbability`, an offline server or seed, so a
 *   server that comes back is found without a restart;
 * - otherwise an online peer: when monitors and non-monitors are both known, a monitor with
 *   probability `monitorPreference`, else uniformly.
 */
export function choosePeer(
  entries: readonly MemberEntry[],
  settings: PeerSelectionSettings,
  seeds: ReadonlySet<string>,
  random: () => number,
): string | null {
  const others = entries.filter((e) => e.baseUrl !== settings.selfUrl);
  const online = others.filter((e) => e.online);
  const known = new Set(others.map((e) => e.baseUrl));
  const reserve = [...others.filter((e) => !e.online).map((e) => e.baseUrl), ...[...seeds].filter((s) => !known.has(s))];
  if (online.length === 0) return reserve.length ? pick(reserve, random) : null;
  if (reserve.length && random() < settings.offlineProbeProbability) return pick(reserve, random);
  const monitors = online.filter((e) => e.monitor);
  const regular = online.filter((e) => !e.monitor);
  if (monitors.length && regular.length) return pick(random() < settings.monitorPreference ? monitors : regular, random).baseUrl;
  return pick(online, random).baseUrl;
}

/** Shuffles in place (Fisher–Yates) with the given random source. */
export function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}
