/**
 * Jest globalTeardown: fails the run, naming each entry, when a test left anything in the run's
 * temp folder (see temp-folder.global-setup.ts). The folder is removed either way, so a failed
 * run does not leave it in the system temp folder either.
 */
import { readdirSync, rmSync } from 'node:fs';
import type { TempRun } from './temp-folder.global-setup.js';

export default function teardown(): void {
  const run = (globalThis as { clustershazbotTempRun?: TempRun }).clustershazbotTempRun;
  if (!run) throw new Error('temp-folder.global-setup.ts did not run: no temp folder to check');
  const left = readdirSync(run.folder);
  rmSync(run.folder, { recursive: true, force: true });
  for (const [name, value] of Object.entries(run.saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (left.length) {
    throw new Error(`tests left ${left.length} entries in the temp folder (each test must remove what it makes, even when it fails): ${left.sort().join(', ')}`);
  }
}
