import { Awareness } from '../../lib/core/awareness.js';
import { Dissemination } from '../../lib/core/dissemination.js';
import { RateLimitedLog } from '../../lib/core/engine-log.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../lib/core/engine-settings.js';
import { toWire, type MemberEntry } from '../../lib/core/membership-view.js';
import { Membership } from '../../lib/core/membership.js';
import { PeerBook } from '../../lib/core/peer-book.js';
import type { GossipServer, ProbeMessage } from '../../lib/core/types.js';

/**
 * Dissemination's piggyback, edge cases the mutation run found unpinned (docs/mutation.md,
 * "lib/core survivors: dissemination…"): which of a probe's entries count as "already carried"
 * (every compareEntries field of the entry key), a suspect target's queued copy matched by URL
 * too, and an alive entry's `by` dropped before an ack compares. Built as dissemination.spec.ts
 * builds it: a real Membership and PeerBook.
 */

const SELF = 'http://self:1/';
const T0 = 1_800_000_000_000;
const A = 'http://a:1/';
const B = 'http://b:1/';
const C = 'http://c:1/';

function setup() {
  const now = () => T0;
  const peers = new PeerBook(SELF, { now });
  const membership = new Membership({ ...DEFAULT_ENGINE_SETTINGS, selfUrl: SELF }, { now, peers, awareness: new Awareness(8, 2000), log: new RateLimitedLog(undefined, now) });
  const dissemination = new Dissemination(DEFAULT_ENGINE_SETTINGS, membership, peers);
  membership.start();
  for (let i = 0; dissemination.hasPending && i < 1000; i++) dissemination.piggyback();
  expect(dissemination.hasPending).toBe(false);
  return { membership, dissemination };
}

const alive = (baseUrl: string, lastUpdate: number): MemberEntry => ({ baseUrl, monitor: false, lastUpdate, online: true });
const wire = (baseUrl: string, lastUpdate: number, extra: Partial<GossipServer> = {}): GossipServer => ({ baseUrl, monitor: false, lastUpdate, ...extra });
const probe = (lists: Partial<ProbeMessage>): ProbeMessage => ({ message: 'probe', online: [], ...lists });

describe('Dissemination: what counts as carried by the probe an ack answers (entry key)', () => {
  it('sends a queued entry the probe carried with the same stamp and state but another monitor flag', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 5)] }, 'test');
    // theirs (monitor) wins over ours on the monitor tie-break: no correction, only the queued copy can go
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 5, { monitor: true })] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self()), wire(A, T0 - 5)], offline: [] });
  });

  it('counts a probe entry without a monitor flag as monitor false: the queued copy is carried', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 5)] }, 'test');
    const noMonitor = { baseUrl: A, lastUpdate: T0 - 5 } as GossipServer;
    const ack = dissemination.piggyback(undefined, probe({ online: [noMonitor] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self())], offline: [] });
    // not spent on the prober: the next message carries it
    expect(dissemination.piggyback().online).toContainEqual(wire(A, T0 - 5));
  });

  it('sends a queued entry the probe carried with the same stamp and state but another generation', () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [wire(A, T0 - 5, { generation: 3 })] }, 'test');
    // generation 7 wins the tie-break: no correction, and the queued generation-3 copy is news to the key
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 5, { generation: 7 })] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self()), wire(A, T0 - 5, { generation: 3 })], offline: [] });
  });

  it("counts an empty declarer as none: a leave is carried by the probe's copy with `by: ''`", () => {
    const { dissemination, membership } = setup();
    membership.merge({ online: [], offline: [wire(A, T0 - 5)] }, 'test');
    // A twice: offline at our stamp with an empty declarer (our key), and alive at a later stamp,
    // which wins over ours, so no correction is sent either
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 4)], offline: [wire(A, T0 - 5, { by: '' })] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self())], offline: [] });
  });
});

describe("Dissemination: a suspect target's own suspicion", () => {
  it('does not mistake another server suspected at the same stamp by the same declarer for the target', () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5), alive(B, T0 - 5)]);
    membership.merge({ online: [], suspect: [wire(A, T0 - 5, { by: C }), wire(B, T0 - 5, { by: C })] }, 'test');
    const list = dissemination.piggyback(A);
    expect(list.suspect).toEqual([wire(A, T0 - 5, { by: C }), wire(B, T0 - 5, { by: C })]);
  });
});

describe('Dissemination: an ack compares alive entries without their declarer', () => {
  it("does not correct an alive entry the probe carried at our stamp with a stray `by` (the sender's view drops it)", () => {
    const { dissemination, membership } = setup();
    membership.preload([alive(A, T0 - 5)]);
    // with its `by` kept, theirs would lose to ours on "own word over a declaration", and ours would be sent
    const ack = dissemination.piggyback(undefined, probe({ online: [wire(A, T0 - 5, { by: C })] }));
    expect(ack).toStrictEqual({ online: [toWire(membership.self())], offline: [] });
  });
});
