// @ts-check
/**
 * Mutation testing of the protocol core and the security helpers: `npm run test:mutation`.
 * Jest runs in native ESM mode, so the runner's workers get --experimental-vm-modules.
 * Incremental: results are kept in reports/mutation/stryker-incremental.json, and a rerun only
 * tests the mutants whose code or covering tests changed. How to run it, what it mutates and
 * the scores: docs/mutation.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  checkers: [],
  mutate: [
    'lib/core/**/*.ts',
    'lib/security/**/*.ts',
    // re-exports only
    '!lib/core/index.ts',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant is one only module loading runs (a top-level constant, a default settings
  // object): Stryker cannot tell which test covers it, so it would run every suite for each one.
  // Ignored by default (the report counts them); `MUTATE_STATIC=1 npm run test:mutation` tests
  // them too, each one running every suite (docs/mutation.md).
  ignoreStatic: process.env.MUTATE_STATIC !== '1',
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // 2 shared cores: one test process at a time leaves the other core to everyone else
  concurrency: 1,
  timeoutMS: 10000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ['dist', 'dist-sample', 'dist-all', 'coverage', 'reports', 'test-artifacts', '.sim-results'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
