/** `npm start`'s demo, run as a user would (built JS), until it converges and stops its servers. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

it('the demo starts five servers, converges, prints the URLs and stops them all', () => {
  const root = resolve(import.meta.dirname, '../..');
  const run = spawnSync(process.execPath, ['dist-sample/sample/demo.js'], {
    cwd: root,
    env: { ...process.env, DEMO_EXIT_AFTER_CONVERGED: '1' },
    encoding: 'utf8',
    timeout: 110_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  // every '-' in a progress line is explained before the first one
  const legend = run.stdout.indexOf("'-': not answering yet");
  expect(legend).toBeGreaterThanOrEqual(0);
  expect(legend).toBeLessThan(run.stdout.indexOf('t='));
  expect(run.stdout).toMatch(/converged: all 5 servers see 5 online after [\d.]+ s/);
  expect(run.stdout.match(/server-\d: http:\/\/127\.0\.0\.1:\d+\/health/g)).toHaveLength(5);
  expect(run.stdout).toContain('all servers stopped.');
}, 120_000);
