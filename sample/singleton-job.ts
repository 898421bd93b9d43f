import { Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { appendFileSync } from 'node:fs';
import { ClusterSingleton, currentSingletonRun } from 'clustershazbot';

/**
 * The sample's cluster singleton (registered only when DEMO_SINGLETON_LOG names a file): a
 * job every second, on one server of the cluster, that appends `{ job, fireTime, pid, runKey,
 * viewId }` to that file. Every server runs the same code; the file shows who ran each fire.
 * `majority` keeps the default quorum; `unguarded` is the same job with `quorum: 'none'`, to
 * show what the quorum prevents during a partition.
 */
@Injectable()
export class SingletonJob {
  private readonly log = process.env.DEMO_SINGLETON_LOG!;

  @Cron('* * * * * *')
  @ClusterSingleton({ name: process.env.DEMO_SINGLETON_NAME || 'demo-report' })
  majority(): void {
    this.record();
  }

  @ClusterSingleton({ name: process.env.DEMO_SINGLETON_UNGUARDED_NAME || 'demo-report-unguarded', quorum: 'none' })
  @Cron('* * * * * *')
  unguarded(): void {
    this.record();
  }

  private record(): void {
    const run = currentSingletonRun()!;
    appendFileSync(this.log, `${JSON.stringify({ job: run.name, fireTime: run.fireTime, pid: process.pid, runKey: run.runKey, viewId: run.viewId, owner: run.owner })}\n`);
  }
}
