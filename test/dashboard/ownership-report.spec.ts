/**
 * The dashboard's ownership section from a view and its key/value state: singletons with the
 * servers that hold them (a divergence shows as two rows, nobody as `none`), and how the
 * eligible members split 10,000 sample keys.
 */
import { RendezvousTable } from '../../lib/core/index.js';
import { ownershipReport, SINGLETONS_STATE_KEY } from '../../lib/cli/dashboard/ownership-report.js';
import { memberRows } from '../../lib/cli/member-rows.js';
import { SINGLETONS_STATE_KEY as LIBRARY_KEY } from '../../lib/index.js';

const A = 'http://10.0.0.1:3000/';
const B = 'http://10.0.0.2:3000/';
const C = 'http://10.0.0.3:3000/';
const D = 'http://10.0.0.4:3000/';
const rows = memberRows({ online: [A, B].map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: 1 })), suspect: [{ baseUrl: C, monitor: false, lastUpdate: 1 }], offline: [{ baseUrl: D, monitor: false, lastUpdate: 1, by: A }] });

describe('ownershipReport', () => {
  it('reads the key the library publishes', () => {
    expect(SINGLETONS_STATE_KEY).toBe(LIBRARY_KEY);
  });

  it('is absent while no server publishes singletons', () => {
    expect(ownershipReport(rows, undefined)).toBeUndefined();
    expect(ownershipReport(rows, { [A]: { load: 1 } })).toBeUndefined();
  });

  it('lists each singleton with every holder, or none; splits the sample keys over online and suspect members', () => {
    const report = ownershipReport(rows, {
      [A]: { [SINGLETONS_STATE_KEY]: { registered: ['billing', 'report', 'cleanup'], held: ['report'] } },
      [B]: { [SINGLETONS_STATE_KEY]: { registered: ['billing', 'report'], held: ['billing', 'report'] } },
      [C]: { [SINGLETONS_STATE_KEY]: 'garbage' },
      [D]: { [SINGLETONS_STATE_KEY]: { registered: [42, 'x'.repeat(3)], held: null } },
    })!;
    expect(report.singletons).toEqual([
      { name: 'billing', owner: B },
      { name: 'cleanup', owner: 'none' },
      { name: 'report', owner: A },
      { name: 'report', owner: B },
      { name: 'xxx', owner: 'none' },
    ]);
    const table = new RendezvousTable([A, B, C]);
    const expected = [A, B, C].map((owner) => ({ owner, keys: Array.from({ length: 10_000 }, (_, i) => table.owner(`key-${i}`)).filter((o) => o === owner).length }));
    expect(report.keysPerOwner).toEqual(expected);
    expect(expected.reduce((n, k) => n + k.keys, 0)).toBe(10_000);
  });
});
