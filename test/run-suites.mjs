/**
 * What `npm test` runs after the builds: the suites in three jest runs, each one suite at a time.
 *
 * 1. rebuilds: the suite that runs `npm start`, which rebuilds dist/ (rm -rf, then tsc). Alone
 *    and first: any suite running meanwhile could find dist/ gone.
 * 2. Then two runs side by side, one per core of the machines this project targets (2 cores):
 *    - real-process: test/cluster and the CLI and dashboard suites that start servers (dist/)
 *      or Chromium in child processes; one at a time, so no two clusters share the cores.
 *      Their bounds are in probe intervals (test/support/bounds.ts).
 *    - in-process: everything else (unit, e2e, docs, package), with --coverage: only these
 *      count for the coverage of lib/, since the other suites run dist/ in other processes.
 *
 * One after the other, every suite took 13.4 min on that machine. Arguments are passed to every
 * run; `--json --outputFile=F` (what .ci/run passes) writes one result to F with the counts of
 * all three. The exit code is non-zero when any run failed.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const outputIndex = args.findIndex((a) => a.startsWith('--outputFile'));
let outputFile;
if (outputIndex >= 0) {
  const [flag, value] = args[outputIndex].split('=');
  outputFile = value ?? args[outputIndex + 1];
  args.splice(outputIndex, value === undefined ? 2 : 1);
  void flag;
}

const jest = new URL('../node_modules/jest/bin/jest.js', import.meta.url).pathname;

/** One jest run over a group of suites; resolves with its exit code and its JSON result when asked. */
function run(group, extra) {
  const out = outputFile ? `${outputFile}.${group}.json` : undefined;
  if (out) rmSync(out, { force: true }); // a file left by an aborted run must not pass for this one's
  // a group finding no suite is an error (a renamed file would slip into another group), unless
  // the caller narrowed the run to some paths
  const noTests = args.some((a) => !a.startsWith('-')) ? ['--passWithNoTests'] : [];
  const argv = ['--experimental-vm-modules', jest, '--runInBand', ...noTests, ...extra, ...args, ...(out ? [`--outputFile=${out}`] : [])];
  const child = spawn(process.execPath, argv, { stdio: 'inherit', env: { ...process.env, CLUSTERSHAZBOT_SUITES: group } });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      let result;
      if (out) {
        try {
          result = JSON.parse(readFileSync(out, 'utf8'));
        } catch {
          result = undefined; // a run that died before writing: counted as one failure below
        }
        rmSync(out, { force: true });
      }
      resolve({ group, code: code ?? (signal ? 1 : 0), result });
    });
  });
}

// a Ctrl-C reaches every run through the process group; nothing to forward by hand
const first = await run('rebuilds', []);
const runs = [first, ...(await Promise.all([run('real-process', []), run('in-process', ['--coverage'])]))];

for (const { group, code } of runs) if (code !== 0) console.error(`jest (${group} suites) exited with ${code}`);
if (outputFile) {
  const merged = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTotalTests: 0, numPassedTestSuites: 0, numFailedTestSuites: 0, numRuntimeErrorTestSuites: 0, numTotalTestSuites: 0, success: true, testResults: [] };
  for (const { result, code } of runs) {
    if (!result) {
      merged.numRuntimeErrorTestSuites += 1;
      merged.success = false;
      continue;
    }
    for (const key of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTotalTests', 'numPassedTestSuites', 'numFailedTestSuites', 'numRuntimeErrorTestSuites', 'numTotalTestSuites']) merged[key] += result[key] ?? 0;
    merged.success &&= result.success && code === 0;
    merged.testResults.push(...(result.testResults ?? []));
  }
  writeFileSync(outputFile, JSON.stringify(merged));
}
process.exit(runs.some((r) => r.code !== 0) ? 1 : 0);
