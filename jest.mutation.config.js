/**
 * `npm run test:mutation` (stryker.config.mjs): the suites StrykerJS runs against each mutant of
 * lib/core and lib/security: the unit suites, in process, where each test builds what it tests.
 * A mutant costs a jest run of the few tests that cover it: a few seconds, not minutes.
 */
import base from './jest.config.js';

export default {
  ...base,
  // the package's own name (sample/local-cluster.ts imports it) resolves to the mutated source, not dist/
  moduleNameMapper: { ...base.moduleNameMapper, '^clustershazbot$': '<rootDir>/lib/index.ts' },
  testMatch: ['<rootDir>/test/core/**/*.spec.ts', '<rootDir>/test/security/**/*.spec.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    // Nest apps started in beforeAll: what they run is "static" to Stryker (covered outside any
    // test), so a mutant there would run every suite; the unit suites cover the same code
    '\\.e2e\\.spec\\.ts$',
    // the simulator's scenarios run thousands of virtual intervals each; nearly every core
    // mutant is covered by them, and running them per mutant would take days at concurrency 1.
    // They stay in `npm test`; the unit suites here pin each rule down directly
    '<rootDir>/test/core/failure-detection\\.spec\\.ts$',
    '<rootDir>/test/core/faults\\.spec\\.ts$',
    // lib/dto's validation fast path: not mutated here (and being removed on another branch)
    '<rootDir>/test/core/compiled-validation\\.spec\\.ts$',
  ],
  // mutants that loop or never settle are timed out by Stryker; a lower per-test ceiling ends them sooner
  testTimeout: 30000,
  // no real processes, so no temp-folder check: it would only add set-up to every mutant's run
  globalSetup: undefined,
  globalTeardown: undefined,
};
