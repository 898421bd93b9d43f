/**
 * Two clusters of real processes that share a master list and a secret, told apart only by
 * their cluster names: each refuses the other (403) and neither keeps the other's servers or
 * state. Stopped by pid in afterAll.
 */
import { jest } from '@jest/globals';
import { LocalCluster, type ServerHandle } from '../../sample/local-cluster.js';

jest.setTimeout(120_000);

describe('clusters that share a master list stay apart', () => {
  const cluster = new LocalCluster({ SHAZBOT_GOSSIP_INTERVAL: '0.5' });
  const alpha: ServerHandle[] = [];
  const beta: ServerHandle[] = [];

  beforeAll(async () => {
    for (let i = 1; i <= 2; i++) alpha.push(await cluster.add(`alpha-${i}`, { env: { SHAZBOT_CLUSTER: 'alpha' } }));
    for (let i = 1; i <= 2; i++) beta.push(await cluster.add(`beta-${i}`, { env: { SHAZBOT_CLUSTER: 'beta' } }));
    cluster.writeMasterList([...alpha, ...beta].map((s) => s.baseUrl));
    [...alpha, ...beta].forEach((s) => cluster.start(s));
  });

  afterAll(() => cluster.stopAll());

  it('each side ends up with its own servers only, and refuses the other with 403', async () => {
    const members = async (s: ServerHandle) => {
      const list = await cluster.list(s);
      return list ? [...list.online, ...list.offline].map((e) => e.baseUrl).sort() : undefined;
    };
    for (const [own, other] of [
      [alpha, beta],
      [beta, alpha],
    ]) {
      const expected = own.map((s) => s.baseUrl).sort();
      await cluster.waitFor(`${own[0].name} and its peer to hold only their own cluster`, () => Promise.all(own.map(members)), (views) => views.every((v) => JSON.stringify(v) === JSON.stringify(expected)), 60_000);
      // the other cluster's state never arrives either
      const res = await cluster.signedFetch(own[0], 'GET', 'state');
      const state = (await res.json()) as Record<string, unknown>;
      for (const s of other) expect(state[s.baseUrl]).toBeUndefined();
      // master-list servers are seeds, tried now and then: each side meets the other and drops it
      await cluster.waitFor(
        `${own[0].name}'s side to meet the other cluster`,
        async () => own.some((s) => /answered 403: it belongs to another cluster/.test(s.output.join('\n'))),
        (met) => met,
        60_000,
      );
    }
    // a request signed for alpha, sent to beta: 403 with the reason
    const res = await cluster.signedFetch({ ...beta[0], env: { ...beta[0].env, SHAZBOT_CLUSTER: 'alpha' } }, 'GET', 'list');
    expect(res.status).toBe(403);
    // and they stay apart
    await new Promise((r) => setTimeout(r, 3000));
    expect(await members(alpha[0])).toEqual(alpha.map((s) => s.baseUrl).sort());
    expect(await members(beta[0])).toEqual(beta.map((s) => s.baseUrl).sort());
  });
});
