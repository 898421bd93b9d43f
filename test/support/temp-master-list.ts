import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Master-list files in one temporary folder that the test removes (`remove()` in afterAll). */
export class TempMasterLists {
  private readonly dir = mkdtempSync(join(tmpdir(), 'shazbot-lists-'));
  private count = 0;

  /** A new list file holding `seeds` (stamp 0), as a file:// URL. */
  url(seeds: string[] = []): string {
    const path = join(this.dir, `master-${++this.count}.json`);
    writeFileSync(path, JSON.stringify({ online: seeds.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: 0 })), offline: [] }));
    return pathToFileURL(path).toString();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
