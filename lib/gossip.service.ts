import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { describeUrl } from './clustershazbot.config.js';
import { CLUSTER_CONFIG, CLUSTER_ENGINE, MASTER_LIST_STORE } from './clustershazbot.constants.js';
import { messages } from './clustershazbot.messages.js';
import type { ClusterConfig } from './clustershazbot.options.js';
import type { ClusterEngine } from './core/cluster-engine.js';
import { nextTickAt } from './core/steady-tick.js';
import { describeError } from './describe-error.js';
import type { MasterListStore } from './master-list/master-list-store.interface.js';
import { MasterListInvalidError } from './master-list/url-master-list.store.js';

/** The module's lifecycle: `idle` before start, `running`, `stopped` after shutdown, `failed` when start-up failed. */
export type LifecycleState = 'idle' | 'running' | 'stopped' | 'failed';

/** Whether the master list was loaded, after how many attempts, and the last error (no secret, no query string). */
export interface MasterListStatus {
  loaded: boolean;
  attempts: number;
  lastError?: string;
  /**
   * Set when the last attempt read the list but it is not a server list: one message per bad
   * field, with its place (`online.1.baseUrl …`), or `not valid JSON`. Unset when it could not be read at all
   * (`lastError` says why: a refused connection, a missing file, an HTTP status).
   */
  invalidEntries?: string[];
}

const TIMER = {
  round: 'clustershazbot:gossip-round',
  probe: 'clustershazbot:probe',
  push: 'clustershazbot:push',
  masterList: 'clustershazbot:master-list-retry',
  announce: 'clustershazbot:announce',
  maintain: 'clustershazbot:maintain',
};
/** Key expiry and renewals run this often, whatever the gossip and probe intervals. */
const MAINTAIN_EVERY_MS = 1000;
const MASTER_LIST_RETRY_MAX_MS = 5 * 60_000;

/** Resolves with the promise's value, or with `undefined` once `ms` have passed. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Drives the engine: starts it on module init, runs a round every interval (with jitter, one
 * round at a time), loads the master list with backoff, announces, and leaves on shutdown.
 * Timers live in the module's own SchedulerRegistry and are all cleared on shutdown.
 */
@Injectable()
export class GossipService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Clustershazbot');
  private lifecycle: LifecycleState = 'idle';
  private failure?: string;
  private readonly masterList: MasterListStatus = { loaded: false, attempts: 0 };

  constructor(
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    @Inject(CLUSTER_CONFIG) private readonly config: ClusterConfig,
    @Inject(MASTER_LIST_STORE) private readonly store: MasterListStore,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  get state(): LifecycleState {
    return this.lifecycle;
  }

  get failureReason(): string | undefined {
    return this.failure;
  }

  masterListStatus(): MasterListStatus {
    const { invalidEntries, ...status } = this.masterList;
    return invalidEntries ? { ...status, invalidEntries: [...invalidEntries] } : status;
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.shutdown();
  }

  async start(): Promise<void> {
    if (this.lifecycle === 'running') return;
    try {
      this.engine.start();
      this.lifecycle = 'running';
      this.logger.log(`started as ${this.config.baseUrl}${this.config.monitor ? ' (monitor)' : ''}, gossip every ${this.config.gossipIntervalMs / 1000} s`);
      await this.loadMasterList();
      // the first round comes soon, so a new server is known quickly
      this.schedule(TIMER.round, Math.random() * Math.min(1000, this.config.gossipIntervalMs), () => this.runRound());
      if (this.engine.settings.probeIntervalMs > 0) this.schedule(TIMER.probe, this.engine.settings.probeIntervalMs * Math.random(), () => this.runProbe());
      if (this.engine.settings.pushIntervalMs > 0) this.schedule(TIMER.push, this.engine.settings.pushIntervalMs * Math.random(), () => this.runPush());
      this.scheduleAnnounce();
      this.scheduleMaintenance();
    } catch (error) {
      this.lifecycle = 'failed';
      this.failure = describeError(error);
      this.logger.error(`failed to start: ${this.failure}`);
    }
  }

  /** Leaves the cluster: offline, tell peers, upload when configured, clear every timer. Bounded in time. */
  async shutdown(): Promise<void> {
    if (this.lifecycle !== 'running') return;
    this.lifecycle = 'stopped';
    this.clearTimers();
    const { shutdownTimeoutMs, shutdownFanout, updateMasterListOnShutdown } = this.config;
    const started = Date.now();
    const told = await withDeadline(this.engine.leave(shutdownFanout, started + shutdownTimeoutMs), shutdownTimeoutMs);
    if (updateMasterListOnShutdown && this.store.save) {
      await withDeadline(this.announce(), Math.max(0, shutdownTimeoutMs - (Date.now() - started)));
    }
    this.engine.stop();
    this.logger.log(`left the cluster${told ? ` (told ${told.length} peer(s))` : ' (peers not all told in time)'}`);
  }

  /** Uploads the merged view to the master list. Never throws. */
  async announce(): Promise<boolean> {
    if (!this.store.save) return false;
    try {
      await this.store.save(this.engine.snapshot());
      this.logger.debug(`announced to master list ${describeUrl(this.config.masterListUpdateUrl ?? '')}`);
      return true;
    } catch (error) {
      if (this.config.masterListStore) {
        // a custom store has no URL or variable to name: its own save() is what to look at
        this.logger.warn(messages.masterListStoreUploadFailed(describeError(error)));
        return false;
      }
      const url = this.config.masterListUpdateUrl ?? '';
      const settings = url.startsWith('http') ? 'SHAZBOT_MASTER_LIST_UPDATE (option masterListUpdateUrl) and SHAZBOT_MASTER_LIST_UPDATE_AUTH' : 'SHAZBOT_MASTER_LIST_UPDATE (option masterListUpdateUrl)';
      this.logger.warn(messages.masterListUploadFailed(describeUrl(url), describeError(error), settings));
      return false;
    }
  }

  /** One attempt; on failure schedules the next with exponential backoff and jitter. */
  async loadMasterList(): Promise<boolean> {
    this.masterList.attempts++;
    try {
      const list = await this.store.load();
      this.engine.mergeMasterList(list);
      this.masterList.loaded = true;
      this.masterList.lastError = undefined;
      this.masterList.invalidEntries = undefined;
      this.logger.log(`master list loaded: ${list.online.length} online, ${list.offline?.length ?? 0} offline`);
      return true;
    } catch (error) {
      this.masterList.lastError = describeError(error);
      this.masterList.invalidEntries = error instanceof MasterListInvalidError ? error.errors : undefined;
      const base = Math.min(5000, this.config.gossipIntervalMs) * 2 ** Math.min(this.masterList.attempts - 1, 16);
      const delay = Math.min(MASTER_LIST_RETRY_MAX_MS, base) * (0.5 + Math.random() / 2);
      const custom = this.config.masterListStore !== undefined;
      const where = custom ? 'from the masterListStore option' : describeUrl(this.config.masterListUrl);
      this.logger.warn(
        error instanceof MasterListInvalidError
          ? messages.masterListInvalid(where, this.masterList.lastError, delay / 1000)
          : custom
            ? messages.masterListStoreUnavailable(this.masterList.lastError, delay / 1000)
            : messages.masterListUnavailable(where, this.masterList.lastError, delay / 1000, 'SHAZBOT_MASTER_LIST (option masterListUrl)'),
      );
      if (this.lifecycle === 'running') this.schedule(TIMER.masterList, delay, () => this.loadMasterList());
      return false;
    }
  }

  private async runRound(): Promise<void> {
    try {
      await this.engine.gossipRound();
    } finally {
      if (this.lifecycle === 'running') {
        const { gossipIntervalMs, gossipJitter } = this.config;
        this.schedule(TIMER.round, gossipIntervalMs * (1 - gossipJitter + 2 * gossipJitter * Math.random()), () => this.runRound());
      }
    }
  }

  /** Probe ticks keep a steady period: the next one is due an interval after this one started. */
  private runProbe(): Promise<void> {
    return this.runSteady(TIMER.probe, this.engine.settings.probeIntervalMs, () => this.engine.probeTick(), () => this.runProbe());
  }

  /** Pushes of waiting changes, likewise (a no-op when nothing waits). */
  private runPush(): Promise<void> {
    return this.runSteady(TIMER.push, this.engine.settings.pushIntervalMs, () => this.engine.pushTick(), () => this.runPush());
  }

  /** Runs one tick, then schedules `next` an interval after this tick started (at once if it ran longer); ticks never overlap. */
  private async runSteady(name: string, intervalMs: number, tick: () => Promise<unknown>, next: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await tick();
    } finally {
      const now = Date.now();
      if (this.lifecycle === 'running') this.schedule(name, nextTickAt(started, now, intervalMs) - now, next);
    }
  }

  private scheduleMaintenance(): void {
    this.schedule(TIMER.maintain, MAINTAIN_EVERY_MS, async () => {
      try {
        this.engine.maintain();
      } finally {
        if (this.lifecycle === 'running') this.scheduleMaintenance();
      }
    });
  }

  private scheduleAnnounce(): void {
    if (!this.store.save || this.lifecycle !== 'running') return;
    const delay = this.config.announceMinimumMs + Math.random() * this.config.announceIntervalMs;
    this.schedule(TIMER.announce, delay, async () => {
      await this.announce();
      this.scheduleAnnounce();
    });
  }

  private schedule(name: string, delayMs: number, task: () => Promise<unknown>): void {
    if (this.scheduler.doesExist('timeout', name)) this.scheduler.deleteTimeout(name);
    const handle = setTimeout(() => {
      if (this.scheduler.doesExist('timeout', name)) this.scheduler.deleteTimeout(name);
      task().catch((error: unknown) => this.logger.error(`${name} failed: ${describeError(error)}`));
    }, delayMs);
    this.scheduler.addTimeout(name, handle);
  }

  private clearTimers(): void {
    for (const name of Object.values(TIMER)) if (this.scheduler.doesExist('timeout', name)) this.scheduler.deleteTimeout(name);
  }
}
