/**
 * `@ClusterSingleton()` in a real Nest app with @nestjs/schedule's ScheduleModule: it composes
 * with `@Cron`, `@Interval` and `@Timeout` in either order, keeps their metadata, and runs the
 * body with its fencing key on the owner (here a cluster of one). Also `runSingleton`'s skip
 * reasons, `status()`, the published state, and the errors of bad options.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Cron, Interval, ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import {
  ClusterService,
  ClusterSingleton,
  ClustershazbotModule,
  currentSingletonRun,
  SINGLETONS_STATE_KEY,
  type SingletonEvent,
  type SingletonRun,
} from '../../lib/index.js';
import { baseOptions, SELF } from '../e2e/app-fixture.js';

const runs: { method: string; run: SingletonRun | undefined; at: number }[] = [];
const record = (method: string) => runs.push({ method, run: currentSingletonRun(), at: Date.now() });

@Injectable()
class Jobs {
  @Cron('* * * * * *', { name: 'cron-below' })
  @ClusterSingleton()
  cronBelow(): string {
    record('cronBelow');
    return 'ran';
  }

  @ClusterSingleton({ name: 'cron-job-above' })
  @Cron('* * * * * *', { name: 'cron-above' })
  cronAbove(): void {
    record('cronAbove');
  }

  @Interval('interval-below', 300)
  @ClusterSingleton()
  intervalBelow(): void {
    record('intervalBelow');
  }

  @ClusterSingleton()
  @Interval('interval-above', 300)
  intervalAbove(): void {
    record('intervalAbove');
  }

  @Timeout('timeout-below', 3000)
  @ClusterSingleton()
  async timeoutBelow(): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    record('timeoutBelow'); // after an await: the run is still the current one
  }

  @ClusterSingleton({ quorum: 2 })
  @Timeout('timeout-above', 3000)
  timeoutAbove(): void {
    record('timeoutAbove'); // never: a cluster of one never sees 2 servers
  }
}

describe('@ClusterSingleton() with @nestjs/schedule (a cluster of one)', () => {
  let app: INestApplication;
  let cluster: ClusterService;
  const events: SingletonEvent[] = [];

  beforeAll(async () => {
    @Module({
      imports: [ClustershazbotModule.forRoot(baseOptions({ failureDetection: 'local', probeIntervalSeconds: 0.1, probeTimeoutSeconds: 0.05 })), ScheduleModule.forRoot()],
      providers: [Jobs],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    cluster = app.get(ClusterService);
    cluster.singletonEvents$.subscribe((e) => events.push(e));
    await app.init();
  });

  afterAll(() => app?.close());

  it('keeps the scheduler metadata in either order: every job is registered with its name', () => {
    const registry = app.get(SchedulerRegistry);
    expect([...registry.getCronJobs().keys()].sort()).toEqual(['cron-above', 'cron-below']);
    expect(registry.getIntervals().sort()).toEqual(['interval-above', 'interval-below']);
    expect(registry.getTimeouts().sort()).toEqual(['timeout-above', 'timeout-below']);
    // @nestjs/schedule reads its cron options from this key; the decorator relies on it
    expect(Reflect.getMetadata('SCHEDULE_CRON_OPTIONS', Jobs.prototype.cronBelow)).toMatchObject({ cronTime: '* * * * * *', name: 'cron-below' });
    expect(Reflect.getMetadata('SCHEDULE_CRON_OPTIONS', Jobs.prototype.cronAbove)).toMatchObject({ cronTime: '* * * * * *', name: 'cron-above' });
    expect(Jobs.prototype.cronBelow.name).toBe('cronBelow');
  });

  it('runs each job on the owner with its fencing key; a job whose quorum is not met never runs', async () => {
    // alone: 20 probe intervals (2 s) before it trusts being a cluster of one, the hand-over delay (0.2 s), then the fires
    await new Promise((r) => setTimeout(r, 4600));
    const by = (m: string) => runs.filter((r) => r.method === m);
    for (const m of ['cronBelow', 'cronAbove', 'intervalBelow', 'intervalAbove', 'timeoutBelow']) expect({ m, ran: by(m).length > 0 }).toEqual({ m, ran: true });
    expect(by('timeoutBelow')).toHaveLength(1);
    expect(by('timeoutAbove')).toHaveLength(0);
    const cron = by('cronBelow')[0].run!;
    expect(cron).toEqual({ name: 'Jobs.cronBelow', fireTime: cron.fireTime, runKey: `Jobs.cronBelow@${cron.fireTime}`, owner: SELF, generation: expect.any(Number), viewId: cluster.viewId() });
    expect(cron.fireTime % 1000).toBe(0); // a cron fire is named by its second
    expect(by('cronAbove')[0].run!.name).toBe('cron-job-above');
    expect(by('timeoutBelow')[0].run!.name).toBe('Jobs.timeoutBelow');
    const skipped = events.filter((e) => e.type === 'skipped' && e.name === 'Jobs.timeoutAbove');
    expect(skipped).toEqual([expect.objectContaining({ reason: 'no-quorum', detail: '1 of 1 servers alive, 2 needed', owner: SELF })]);
    expect(events.filter((e) => e.type === 'acquired').map((e) => e.name).sort()).toEqual(['Jobs.cronBelow', 'Jobs.intervalAbove', 'Jobs.intervalBelow', 'Jobs.timeoutBelow', 'cron-job-above']);
  });

  it('returns the method\'s value when it runs, and lists what this server owns in status() and in its state', async () => {
    const jobs = app.get(Jobs);
    await expect(jobs.cronBelow()).resolves.toBe('ran');
    const status = cluster.status().coordination;
    expect(status.owned.sort()).toEqual(['Jobs.cronBelow', 'Jobs.intervalAbove', 'Jobs.intervalBelow', 'Jobs.timeoutBelow', 'cron-job-above']);
    expect(status.quorum).toEqual({ alive: 1, suspect: 0, failed: 0, known: 1, needed: 1, ok: true });
    expect(status.eligible).toBe(1);
    expect(status.singletons.find((s) => s.name === 'Jobs.timeoutAbove')).toEqual({ name: 'Jobs.timeoutAbove', quorum: 2, owner: SELF, running: false });
    const published = cluster.localState()[SINGLETONS_STATE_KEY] as { registered: string[]; held: string[] };
    expect(published.held.sort()).toEqual(status.owned.sort());
    expect(published.registered.sort()).toEqual([...status.owned, 'Jobs.timeoutAbove'].sort());
  });

  it('runSingleton: runs fn with the run, or says why not; rejects with what fn throws', async () => {
    const ran = await cluster.runSingleton('report', (run) => ({ key: run.runKey, inside: currentSingletonRun()?.runKey }), { fireTime: 1_700_000_000_000 });
    expect(ran).toEqual({ ran: true, value: { key: 'report@1700000000000', inside: 'report@1700000000000' }, run: expect.objectContaining({ name: 'report', owner: SELF }) });
    // a second name with another quorum is another singleton
    await expect(cluster.runSingleton('needs-three', () => 1, { quorum: 3 })).resolves.toEqual({ ran: false, reason: 'no-quorum', detail: '1 of 1 servers alive, 3 needed', owner: SELF });
    await expect(cluster.runSingleton('report', () => { throw new Error('job failed'); })).rejects.toThrow('job failed');
    await expect(cluster.runSingleton('', () => 1)).rejects.toThrow("a cluster singleton's name must be a non-empty string");
    await expect(cluster.runSingleton('report', () => 1, { quorum: 0 })).rejects.toThrow("quorum must be 'majority', 'none' or a whole number of servers ≥ 1; got 0");
    await expect(cluster.runSingleton('report', () => 1, { quorum: 'none' })).rejects.toThrow('registered twice with different quorums');
  });

  it('owner, owners, isOwner and viewId: this server owns everything while alone', () => {
    expect(cluster.owner('user:42')).toBe(SELF);
    expect(cluster.owners('user:42', 3)).toEqual([SELF]);
    expect(cluster.isOwner('user:42')).toBe(true);
    expect(cluster.viewId()).toMatch(/^[0-9a-f]{12}$/);
    expect(() => cluster.owner(42 as unknown as string)).toThrow('owner(key): key must be a string, got number');
    expect(() => cluster.owners('k', -1)).toThrow('owners(key, n): n must be a whole number ≥ 0, got -1');
  });

  it('ownership$ reports the change when this server goes offline, and its singletons are released once', async () => {
    const change = firstValueFrom(cluster.ownership$);
    const released = firstValueFrom(cluster.singletonEvents$.pipe(filter((e) => e.type === 'released'), take(5), toArray()));
    cluster.setOnline(false);
    await expect(change).resolves.toEqual({ viewId: cluster.viewId(), added: [], removed: [SELF] });
    expect((await released).map((e) => e.type === 'released' && e.reason)).toEqual(Array(5).fill('no eligible member (this server is offline)'));
    expect(cluster.owner('user:42')).toBeUndefined();
    await expect(cluster.runSingleton('report', () => 1)).resolves.toMatchObject({ ran: false, reason: 'not-owner', detail: 'no eligible member' });
    cluster.setOnline(true);
  });
});

describe('@ClusterSingleton() options and misuse', () => {
  it('throws at class definition for an unknown option, an empty name or a bad quorum', () => {
    expect(() => ClusterSingleton({ quorom: 'none' } as never)).toThrow('@ClusterSingleton(): unknown option "quorom" (options: name, quorum)');
    expect(() => ClusterSingleton({ name: '' })).toThrow("a cluster singleton's name must be a non-empty string");
    expect(() => ClusterSingleton({ quorum: 1.5 })).toThrow("@ClusterSingleton(): quorum must be 'majority', 'none' or a whole number of servers ≥ 1; got 1.5");
  });

  it('does not run the body when no clustershazbot module is running in the process', async () => {
    let ran = false;
    class Lonely {
      @ClusterSingleton()
      job(): void {
        ran = true;
      }
    }
    await expect(new Lonely().job()).resolves.toBeUndefined();
    expect(ran).toBe(false);
  });
});
