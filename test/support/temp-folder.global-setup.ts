/**
 * Jest globalSetup: every test, and every process a test starts, gets a temp folder of this run
 * (TMPDIR, TMP and TEMP point into it), so the teardown can tell exactly what the tests left
 * behind, even while other runs use the system temp folder at the same time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the teardown needs; globals set in globalSetup are readable in globalTeardown (and nowhere else). */
export interface TempRun {
  folder: string;
  saved: Record<string, string | undefined>;
}

export default function setup(): void {
  const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  const folder = mkdtempSync(join(tmpdir(), 'clustershazbot-test-run-'));
  for (const name of Object.keys(saved)) process.env[name] = folder;
  (globalThis as { clustershazbotTempRun?: TempRun }).clustershazbotTempRun = { folder, saved };
}
