/**
 * The dashboard page on its own, in headless Chromium: its local server (`DashboardServer`)
 * fed a fixed snapshot, for what a live three-server cluster does not show: the ownership
 * section (reserved for singleton owners and keys per owner), views that differ, and values
 * from a hostile server rendered as text, never as HTML.
 */
import { jest } from '@jest/globals';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../../bench/dashboard-session.js';
import type { DashboardSnapshot } from '../../lib/cli/dashboard/dashboard-snapshot.js';
import { DashboardServer, type SnapshotSource } from '../../lib/cli/dashboard/dashboard.server.js';

jest.setTimeout(60_000);

const A = 'http://10.0.0.1:3000/';
const B = 'http://10.0.0.2:3000/';
const HOSTILE = 'http://10.0.0.3:3000/<img src=x onerror="window.pwned=1">/';

/** A source whose snapshot the test sets, pushed to the page like the monitor's. */
class FixedSource implements SnapshotSource {
  private readonly listeners = new Set<(s: DashboardSnapshot) => void>();
  constructor(public current: DashboardSnapshot) {}
  snapshot() {
    return this.current;
  }
  onSnapshot(listener: (s: DashboardSnapshot) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  push(next: DashboardSnapshot) {
    this.current = next;
    this.listeners.forEach((l) => l(next));
  }
}

const now = Date.now();
const base: DashboardSnapshot = {
  cluster: 'prod',
  entry: A,
  source: A,
  viewReadAt: now,
  intervalMs: 1000,
  members: [
    { address: A, status: 'online', monitor: true, lastUpdate: now - 5_000, stateKeys: 3 },
    { address: B, status: 'suspect', monitor: false, lastUpdate: now - 1_000, declaredBy: A, stateKeys: 1 },
    { address: HOSTILE, status: 'offline', monitor: false, lastUpdate: now - 60_000, declaredBy: 'itself', stateKeys: 0 },
  ],
  counts: { online: 1, suspect: 1, offline: 1 },
  servers: [
    { address: A, status: 'online', reachable: true, fingerprint: '00000000000000aa', counts: { online: 1, suspect: 1, offline: 1 }, latencyMs: 3, health: { status: 'ok', cluster: 'up' }, healthScore: 0, checkedAt: now },
    { address: B, status: 'suspect', reachable: true, fingerprint: '00000000000000bb', counts: { online: 2, suspect: 0, offline: 1 }, latencyMs: 4, checkedAt: now },
  ],
  agreement: { agree: false, groups: [{ fingerprint: '00000000000000aa', servers: [A] }, { fingerprint: '00000000000000bb', servers: [B] }], sweptAt: now },
  changes: [{ at: now - 1_000, address: B, from: 'online', to: 'suspect', declaredBy: A }],
};

describe('dashboard page', () => {
  const source = new FixedSource(base);
  const server = new DashboardServer(source, 0);
  let browser: { context: BrowserContext; close(): Promise<void> } | undefined;

  afterAll(async () => {
    await browser?.close();
    await server.close();
  });

  it('renders differing views, hostile values as text, and the ownership section once a snapshot has it', async () => {
    const url = await server.listen();
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);

    await page.locator('#agreement', { hasText: 'differ: 1 / 1' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#cluster').textContent()).toBe('cluster "prod"');
    expect(await page.locator(`#members tr[data-member="${B}"] td`).allTextContents()).toEqual([B, 'suspect', 'no', expect.stringMatching(/^\d+s ago$/), A, '1']);
    expect(await page.locator('#servers tbody tr').first().locator('td').allTextContents()).toEqual([A, 'yes', '00000000000000aa', '1 / 1 / 1', 'ok (cluster up)', '0', '3 ms']);
    // the hostile address is text: no <img> was created and its handler never ran
    expect(await page.locator('#members td.address', { hasText: '<img' }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.locator('#ownership').isHidden()).toBe(true);

    source.push({
      ...base,
      ownership: { singletons: [{ name: 'scheduler', owner: A }], keysPerOwner: [{ owner: A, keys: 12 }, { owner: B, keys: 9 }] },
    });
    await page.locator('#ownership').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#singletons tbody td').allTextContents()).toEqual(['scheduler', A]);
    expect(await page.locator('#keys-per-owner tbody td').allTextContents()).toEqual([A, '12', B, '9']);
    expect(errors).toEqual([]);
  });
});
