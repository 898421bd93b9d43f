/**
 * The work one sync request can make a server do (issue 18, item 6), in machine-independent
 * terms: member reads of the view, counted on the real engine's membership while it answers the
 * largest request the wire accepts, and the bytes of its answer. Before the fix a sync listing
 * every range as complete walked the whole view once per range (4,160 walks); now the ranges
 * cost one set lookup per member, in one walk, whatever their number.
 */
import { ClusterEngine, DIGEST_BUCKETS, LEAVES_PER_BUCKET, MAX_SERVERS, type DigestEntry, type GossipTransport, type MemberEntry, type Membership, type SyncMessage } from '../../lib/core/index.js';

const T0 = 1_800_000_000_000;
const SELF = 'http://self.test:1/';
/** Every range a sync may list complete (64 buckets, then 64 × 64 leaves): the DTO's bound. */
const ALL_RANGES = DIGEST_BUCKETS * (LEAVES_PER_BUCKET + 1);
const nowhere = () => Promise.reject(new Error('not used'));
const transport: GossipTransport = { exchange: nowhere, probe: nowhere, sync: nowhere };

/** An engine whose view holds `size` servers (itself included), and a count of member reads. */
function engineWithView(size: number) {
  const engine = new ClusterEngine({ selfUrl: SELF, probeIntervalMs: 0 }, { now: () => T0, random: () => 0.5, transport });
  engine.start();
  const online: MemberEntry[] = [];
  for (let i = 1; i < size; i++) online.push({ baseUrl: `http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:3000/`, monitor: false, lastUpdate: T0 - 1000, online: true } as MemberEntry);
  for (let i = 0; i < online.length; i += 1000) engine.merge({ online: online.slice(i, i + 1000).map(({ baseUrl, monitor, lastUpdate }) => ({ baseUrl, monitor, lastUpdate })), offline: [] }, 'test');
  // the engine's own membership, counted where the view is read: a walk yields members, a lookup gets one
  const membership = (engine as unknown as { membership: Membership }).membership;
  const reads = { walked: 0, looked: 0 };
  const values = membership.values.bind(membership);
  const get = membership.get.bind(membership);
  membership.values = function* () {
    for (const entry of values()) {
      reads.walked++;
      yield entry;
    }
  } as typeof membership.values;
  membership.get = (url: string) => (reads.looked++, get(url));
  return { engine, reads, view: () => engine.snapshot(false) };
}

describe('the work of one sync request is bounded', () => {
  it('every range listed complete (4,160, the most the wire accepts) against a full view of 10,000: one walk of the view, not one per range; the answer within the message budget', () => {
    const { engine, reads, view } = engineWithView(MAX_SERVERS);
    const members = view().online.length + (view().offline?.length ?? 0);
    expect(members).toBe(MAX_SERVERS);
    const all: SyncMessage = { message: 'sync', digest: [], complete: Array.from({ length: ALL_RANGES }, (_, r) => r) };
    const reply = engine.handleSync(all);
    // one walk of the view, whatever the number of ranges
    expect(reads.walked).toBe(members);
    // each candidate is looked up once to score it: at most one per member
    expect(reads.looked).toBeLessThanOrEqual(members);
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(16 * 1024);
    expect(reply.members!.online.length).toBeGreaterThan(0);
    // and no more than a request listing one range: the number of ranges costs nothing extra
    const one = engineWithView(MAX_SERVERS);
    one.engine.handleSync({ message: 'sync', digest: [], complete: [0] });
    expect(reads.walked).toBe(one.reads.walked);
  });

  it('a digest and a want list of 10,000 entries each (the list bound): one lookup per entry and per candidate, no walk', () => {
    const { engine, reads, view } = engineWithView(MAX_SERVERS);
    const entries = view().online.map((e): DigestEntry => [e.baseUrl, e.lastUpdate - 1, 0, 0]);
    expect(entries).toHaveLength(MAX_SERVERS);
    const reply = engine.handleSync({ message: 'sync', digest: entries, want: entries });
    expect(reads.walked).toBe(0);
    // compare: one per digest entry; score: one per candidate (at most one per digest and want entry):
    // 2 × digest + want, 30,000 here, and with every range complete too at most one more per member
    expect(reads.looked).toBeLessThanOrEqual(2 * entries.length + entries.length);
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(16 * 1024);
  });
});
