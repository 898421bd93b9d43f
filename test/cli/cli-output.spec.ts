/** The CLI's pure parts: tables, ages, fingerprints, changes between polls, host health parsing. */
import { agreementOf } from '../../lib/cli/dashboard/cluster-monitor.js';
import { parseTerminusHealth, prometheusValue } from '../../lib/cli/dashboard/host-health.js';
import { membersTable, statusFilter } from '../../lib/cli/commands/members.command.js';
import { memberRows, parseServerList, viewFingerprint } from '../../lib/cli/member-rows.js';
import { describeMemberChange, membershipChanges } from '../../lib/cli/membership-changes.js';
import { formatAge, renderTable } from '../../lib/cli/output-format.js';
import type { ServerList } from '../../lib/core/types.js';

const A = 'http://10.0.0.1:3000/';
const B = 'http://10.0.0.2:3000/';
const C = 'http://10.0.0.3:3000/';
const NOW = 1_800_000_000_000;

describe('members table', () => {
  const list: ServerList = {
    online: [{ baseUrl: B, monitor: true, lastUpdate: NOW - 4_000 }, { baseUrl: A, monitor: false, lastUpdate: NOW - 192_000 }],
    suspect: [{ baseUrl: C, monitor: false, lastUpdate: NOW - 1_000, by: A }],
    offline: [{ baseUrl: 'http://10.0.0.4:3000/', monitor: false, lastUpdate: NOW - 3 * 3_600_000 - 300_000 }],
  };

  it('has one row per member, sorted by address, with who declared suspects and offline members', () => {
    const rows = memberRows(list, { [A]: { zone: 'eu', load: 1 }, [B]: {} });
    expect(rows).toEqual([
      { address: A, status: 'online', monitor: false, lastUpdate: NOW - 192_000, stateKeys: 2 },
      { address: B, status: 'online', monitor: true, lastUpdate: NOW - 4_000, stateKeys: 0 },
      { address: C, status: 'suspect', monitor: false, lastUpdate: NOW - 1_000, declaredBy: A, stateKeys: 0 },
      { address: 'http://10.0.0.4:3000/', status: 'offline', monitor: false, lastUpdate: list.offline![0].lastUpdate, declaredBy: 'itself', stateKeys: 0 },
    ]);
    expect(membersTable(rows, NOW)).toBe(
      [
        'ADDRESS                STATUS   MONITOR  LAST UPDATE  DECLARED BY            KEYS',
        'http://10.0.0.1:3000/  online   no       3m12s ago    -                      2',
        'http://10.0.0.2:3000/  online   yes      4s ago       -                      0',
        'http://10.0.0.3:3000/  suspect  no       1s ago       http://10.0.0.1:3000/  0',
        'http://10.0.0.4:3000/  offline  no       3h05m ago    itself                 0',
        '',
      ].join('\n'),
    );
  });

  it('ages: seconds to days, and a stamp ahead of this clock says so', () => {
    expect([0, 59_999, 60_000, 3_599_000, 3_600_000, 90_000_000].map((ms) => formatAge(NOW - ms, NOW))).toEqual(['0s ago', '59s ago', '1m00s ago', '59m59s ago', '1h00m ago', '1d01h ago']);
    expect(formatAge(NOW + 5_000, NOW)).toBe('5s ahead');
    expect(renderTable(['A', 'LONG HEADER'], [['wide cell', 'x']])).toBe('A          LONG HEADER\nwide cell  x\n');
  });

  it('--status takes a comma-separated set of statuses', () => {
    expect(statusFilter('online,Offline')).toEqual(new Set(['online', 'offline']));
    expect(statusFilter(undefined)).toBeUndefined();
    expect(() => statusFilter('dead')).toThrow('--status takes online, suspect, offline');
  });

  it('a server that answers something else than a list gets a clear error', () => {
    for (const garbage of [null, [], { online: 'x' }, { online: [{ baseUrl: 1 }] }, { online: [], offline: [{}] }]) {
      expect(() => parseServerList(garbage, A)).toThrow(`${A} answered its list with something that is not a server list`);
    }
  });
});

describe('view fingerprint', () => {
  const view: ServerList = { online: [{ baseUrl: A, monitor: false, lastUpdate: 1 }, { baseUrl: B, monitor: false, lastUpdate: 2 }], offline: [] };

  it('is equal for equal views in any order, and differs when a stamp or a status differs', () => {
    const fingerprint = viewFingerprint(view);
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(viewFingerprint({ online: [...view.online].reverse(), offline: [] })).toBe(fingerprint);
    expect(viewFingerprint({ online: [view.online[0], { ...view.online[1], lastUpdate: 3 }] })).not.toBe(fingerprint);
    expect(viewFingerprint({ online: [view.online[0]], suspect: [view.online[1]] })).not.toBe(fingerprint);
    expect(viewFingerprint({ online: [view.online[0]], offline: [view.online[1]] })).not.toBe(fingerprint);
  });

  it('groups servers by fingerprint, largest group first', () => {
    const at = 5;
    const reports = [
      { address: A, reachable: true, fingerprint: 'f1', checkedAt: at },
      { address: B, reachable: true, fingerprint: 'f2', checkedAt: at },
      { address: C, reachable: true, fingerprint: 'f2', checkedAt: at },
      { address: 'http://10.0.0.4:3000/', reachable: false, checkedAt: at },
    ];
    expect(agreementOf(reports, at)).toEqual({ agree: false, groups: [{ fingerprint: 'f2', servers: [B, C] }, { fingerprint: 'f1', servers: [A] }], sweptAt: at });
    expect(agreementOf(reports.slice(1), at).agree).toBe(true);
  });
});

describe('membership changes between two polls', () => {
  it('joined, status changes with who declared them, and removed', () => {
    const before = memberRows({ online: [{ baseUrl: A, monitor: false, lastUpdate: 1 }, { baseUrl: B, monitor: false, lastUpdate: 1 }], offline: [{ baseUrl: C, monitor: false, lastUpdate: 1 }] });
    const after = memberRows({
      online: [{ baseUrl: 'http://10.0.0.9:3000/', monitor: false, lastUpdate: 2 }],
      offline: [{ baseUrl: A, monitor: false, lastUpdate: 2, by: B }],
      suspect: [{ baseUrl: B, monitor: false, lastUpdate: 2, by: A }],
    });
    const changes = membershipChanges(before, after, NOW);
    expect(changes).toEqual([
      { at: NOW, address: A, from: 'online', to: 'offline', declaredBy: B },
      { at: NOW, address: B, from: 'online', to: 'suspect', declaredBy: A },
      { at: NOW, address: C, from: 'offline', to: 'removed' },
      { at: NOW, address: 'http://10.0.0.9:3000/', to: 'online' },
    ]);
    expect(changes.map(describeMemberChange)).toEqual([
      `2027-01-15T08:00:00.000Z  ${A}  online -> offline (declared by ${B})`,
      `2027-01-15T08:00:00.000Z  ${B}  online -> suspect (declared by ${A})`,
      `2027-01-15T08:00:00.000Z  ${C}  offline -> removed`,
      '2027-01-15T08:00:00.000Z  http://10.0.0.9:3000/  joined, online',
    ]);
    expect(membershipChanges(after, after, NOW)).toEqual([]);
  });
});

describe("hosts' health routes", () => {
  it('reads Terminus answers, 503 ones included', () => {
    expect(parseTerminusHealth('{"status":"ok","info":{"cluster":{"status":"up"}},"error":{},"details":{"cluster":{"status":"up","online":[]}}}')).toEqual({ status: 'ok', cluster: 'up' });
    expect(parseTerminusHealth('{"status":"error","details":{"cluster":{"status":"down"}}}')).toEqual({ status: 'error', cluster: 'down' });
    expect(parseTerminusHealth('{"status":"ok"}')).toEqual({ status: 'ok' });
    expect(parseTerminusHealth('<html>not found</html>')).toBeUndefined();
  });

  it('reads one gauge from the Prometheus text format', () => {
    const text = '# HELP clustershazbot_health_score Lifeguard score\n# TYPE clustershazbot_health_score gauge\nclustershazbot_health_scores_x 9\nclustershazbot_health_score 2\n';
    expect(prometheusValue(text, 'clustershazbot_health_score')).toBe(2);
    expect(prometheusValue('clustershazbot_health_score{instance="a"} 1 1700000000\n', 'clustershazbot_health_score')).toBe(1);
    expect(prometheusValue('other 1\n', 'clustershazbot_health_score')).toBeUndefined();
  });
});
