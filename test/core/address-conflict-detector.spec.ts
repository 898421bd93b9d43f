/**
 * The address-conflict detector (two processes claiming one base URL, docs/protocol.md): when a
 * conflict is declared, how it is decided, and when it ends. A manual clock.
 */
import { AddressConflictDetector } from '../../lib/core/address-conflict.js';

const SELF = 'http://self:1/';

describe('the address-conflict detector (two processes claiming one base URL)', () => {
  it('declares a conflict at the third refutation of another generation within the window, not before', () => {
    const d = new AddressConflictDetector(SELF, 3, 120_000, 120_000);
    expect(d.noteRival(7, 5, 0)).toBe(false);
    expect(d.noteRival(7, 5, 60_000)).toBe(false);
    expect(d.conflict).toBeUndefined();
    expect(d.noteRival(8, 5, 119_999)).toBe(true);
    expect(d.conflict).toEqual({ url: SELF, generation: 5, rivalGeneration: 8, role: 'deciding', since: 119_999 });
    // a further word: the same conflict, with the rival's latest generation; not a new one
    expect(d.noteRival(9, 5, 120_000)).toBe(false);
    expect(d.conflict?.rivalGeneration).toBe(9);
  });

  it('refutations older than the window do not count', () => {
    const d = new AddressConflictDetector(SELF, 3, 120_000, 120_000);
    d.noteRival(7, 5, 0);
    d.noteRival(7, 5, 1);
    expect(d.noteRival(7, 5, 120_001)).toBe(false); // the first two are a window old
    expect(d.noteRival(7, 5, 120_002)).toBe(false);
    expect(d.noteRival(7, 5, 120_003)).toBe(true);
  });

  it('a kept conflict ends once the other process has been quiet for quietMs; touch keeps it going; a yielded one never expires by itself', () => {
    const d = new AddressConflictDetector(SELF, 1, 120_000, 60_000);
    expect(d.noteRival(7, 5, 0)).toBe(true);
    expect(d.expireIfQuiet(100_000)).toBe(false); // still deciding
    d.decide('kept');
    expect(d.conflict?.role).toBe('kept');
    d.touch(11, 50_000);
    expect(d.conflict?.rivalGeneration).toBe(11);
    expect(d.expireIfQuiet(109_999)).toBe(false);
    expect(d.expireIfQuiet(110_000)).toBe(true);
    expect(d.conflict).toBeUndefined();
    // cleared: the refutation count starts again
    d.declare(12, 5, 'yielded', 200_000);
    expect(d.conflict).toEqual({ url: SELF, generation: 5, rivalGeneration: 12, role: 'yielded', since: 200_000 });
    expect(d.expireIfQuiet(10_000_000)).toBe(false);
    d.clear();
    expect(d.conflict).toBeUndefined();
    d.touch(13, 0);
    d.decide('kept');
    expect(d.conflict).toBeUndefined();
  });

  it('hands out copies: changing one does not change the detector', () => {
    const d = new AddressConflictDetector(SELF);
    d.declare(2, 1, 'kept', 0);
    const copy = d.conflict!;
    copy.role = 'yielded';
    expect(d.conflict?.role).toBe('kept');
  });

  it('defaults to three refutations within two minutes', () => {
    const d = new AddressConflictDetector(SELF);
    d.noteRival(2, 1, 0);
    d.noteRival(2, 1, 119_000);
    expect(d.noteRival(2, 1, 119_999)).toBe(true);
    d.decide('kept');
    expect(d.expireIfQuiet(119_999 + 119_999)).toBe(false);
    expect(d.expireIfQuiet(119_999 + 120_000)).toBe(true);
  });
  it('counts a refutation exactly one window old as outside the window', () => {
    const d = new AddressConflictDetector(SELF, 3, 120_000, 120_000);
    d.noteRival(7, 5, 0);
    d.noteRival(7, 5, 1);
    expect(d.noteRival(7, 5, 120_000)).toBe(false);
  });

  it("takes the rival's generation from a newer word while in conflict", () => {
    const d = new AddressConflictDetector(SELF);
    d.declare(7, 5, 'yielded', 0);
    d.noteRivalWord({ baseUrl: SELF, monitor: false, lastUpdate: 10, online: true, generation: 9 });
    expect(d.conflict?.rivalGeneration).toBe(9);
  });

  it('finds no rival gone without a conflict, without a word, or with a word that names no generation', () => {
    const offline = { baseUrl: SELF, monitor: false, lastUpdate: 10, online: false, generation: 7 };
    const d = new AddressConflictDetector(SELF);
    d.noteRivalWord(offline);
    expect(d.rivalGone()).toBeUndefined(); // no conflict
    const e = new AddressConflictDetector(SELF);
    e.declare(7, 5, 'yielded', 0);
    expect(e.rivalGone()).toBeUndefined(); // no word
    e.noteRivalWord({ ...offline, generation: undefined });
    expect(e.rivalGone()).toBeUndefined();
  });

  it("reads an offline word by the rival itself as left, and a rival taken back as failed can still leave once", () => {
    const d = new AddressConflictDetector(SELF);
    d.declare(7, 5, 'yielded', 0);
    d.noteRivalWord({ baseUrl: SELF, monitor: false, lastUpdate: 10, online: false, generation: 7, by: SELF });
    expect(d.rivalGone()).toBe('left');
    d.noteTakenBack('failed', 7);
    d.declare(7, 6, 'yielded', 20);
    d.noteRivalWord({ baseUrl: SELF, monitor: false, lastUpdate: 30, online: false, generation: 7 });
    expect(d.rivalGone()).toBe('left');
  });

  it('expires nothing when there is no conflict', () => {
    expect(new AddressConflictDetector(SELF).expireIfQuiet(1e12)).toBe(false);
  });
});
