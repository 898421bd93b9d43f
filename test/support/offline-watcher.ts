import type { LocalCluster, ServerHandle } from '../../sample/local-cluster.js';

/**
 * Polls every server's list and records each time a server that should be alive is shown
 * offline: the false alarms of a scenario. `expectDown` names the servers a test takes down.
 */
export class OfflineWatcher {
  readonly falseOfflines = new Set<string>();
  private expectedDown = new Set<string>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly servers: ServerHandle[],
    everyMs = 250,
  ) {
    this.loop = (async () => {
      while (this.running) {
        for (const observer of this.servers) {
          if (this.expectedDown.has(observer.baseUrl)) continue;
          const view = await this.cluster.list(observer, 1000);
          for (const e of view?.offline ?? []) {
            if (!this.expectedDown.has(e.baseUrl)) this.falseOfflines.add(`${observer.name} saw ${e.baseUrl} offline`);
          }
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  expectDown(...servers: ServerHandle[]): void {
    this.expectedDown = new Set(servers.map((s) => s.baseUrl));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Resolves once every server in `observers` shows `victim` offline; returns the elapsed ms. */
export async function offlineOnAll(cluster: LocalCluster, observers: ServerHandle[], victim: ServerHandle, timeoutMs = 90_000): Promise<number> {
  const started = Date.now();
  await cluster.waitFor(
    `${victim.name} offline on ${observers.length} servers`,
    async () => Promise.all(observers.map(async (s) => (await cluster.list(s))?.offline.some((e) => e.baseUrl === victim.baseUrl))),
    (v) => v.every(Boolean),
    timeoutMs,
    100,
  );
  return Date.now() - started;
}

/** Resolves once every server in `servers` sees all of them online; returns the elapsed ms. */
export async function allOnline(cluster: LocalCluster, servers: ServerHandle[], timeoutMs = 90_000): Promise<number> {
  const started = Date.now();
  await cluster.waitFor(`all ${servers.length} online everywhere`, () => cluster.onlineCounts(servers), (c) => c.every((n) => n === servers.length), timeoutMs, 100);
  return Date.now() - started;
}
