/**
 * Key ownership and singletons through the plain-function API (Express apps): a server alone
 * owns every key and runs its singletons; before shazbotStart the calls answer 503; a
 * decorated method of a class Nest does not manage runs on the one module in the process.
 */
import { ClusterSingleton, ClustershazbotRequestError, currentSingletonRun, shazbotIsOwner, shazbotOwner, shazbotOwners, shazbotRunSingleton, shazbotShutDown, shazbotStart } from '../../lib/index.js';
import { baseOptions, SELF } from '../e2e/app-fixture.js';

describe('coordination through the plain functions', () => {
  afterEach(() => shazbotShutDown());

  it('answers 503 before shazbotStart', async () => {
    expect(() => shazbotOwner('k')).toThrow(ClustershazbotRequestError);
    await expect(shazbotRunSingleton('report', () => 1)).rejects.toMatchObject({ status: 503 });
  });

  it('owns every key alone, runs a singleton, and runs a decorated method of a plain class', async () => {
    await shazbotStart(baseOptions({ failureDetection: 'local', probeIntervalSeconds: 0.1, probeTimeoutSeconds: 0.05 }), []);
    expect(shazbotOwner('order:7')).toBe(SELF);
    expect(shazbotOwners('order:7', 2)).toEqual([SELF]);
    expect(shazbotIsOwner('order:7')).toBe(true);
    // alone: it trusts being a cluster of one after 20 probe intervals (2 s), then the hand-over delay (0.2 s)
    const first = await shazbotRunSingleton('report', (run) => run.runKey, { fireTime: 60_000 });
    expect(first).toMatchObject({ ran: false, reason: 'not-joined' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await shazbotRunSingleton('report', (run) => run.runKey, { fireTime: 60_000 })).toMatchObject({ ran: false, reason: 'hand-over' });
    await new Promise((r) => setTimeout(r, 300));
    await expect(shazbotRunSingleton('report', (run) => run.runKey, { fireTime: 60_000 })).resolves.toMatchObject({ ran: true, value: 'report@60000' });

    class Reports {
      @ClusterSingleton({ name: 'plain-report' })
      async make(): Promise<string | undefined> {
        return currentSingletonRun()?.runKey;
      }
    }
    await expect(new Reports().make()).resolves.toMatch(/^plain-report@\d+$/);
  });
});
