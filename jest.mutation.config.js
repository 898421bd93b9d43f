/**
 * `npm run test:mutation` (stryker.config.mjs): what StrykerJS runs against each mutant of
 * lib/core and lib/security. One test file, test/mutation/unit-suites.mutation.ts, which loads
 * the unit suites (test/core, test/security) into one module registry: a mutant's run loads the
 * instrumented core once, not once per suite. In process only; each test builds what it tests.
 */
import base from './jest.config.js';

export default {
  ...base,
  // the package's own name (sample/local-cluster.ts imports it) resolves to the mutated source, not dist/
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^clustershazbot$': '<rootDir>/lib/index.ts',
    // properties run a few cases per mutant (see the file)
    '^fast-check$': '<rootDir>/test/mutation/fast-check-capped.ts',
  },
  testMatch: ['<rootDir>/test/mutation/*.mutation.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // mutants that loop or never settle are timed out by Stryker; a lower per-test ceiling ends them sooner
  testTimeout: 30000,
  // no real processes, so no temp-folder check: it would only add set-up to every mutant's run
  globalSetup: undefined,
  globalTeardown: undefined,
};
