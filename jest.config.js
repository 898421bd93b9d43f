/** Nest 12 is ESM-only, so jest runs in native-ESM mode (see package.json "test"). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  // the mutation run's sandbox (a copy of the repo) must not shadow the package while it runs
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testTimeout: 60000,
  // `npm test` passes --coverage: what the in-process suites (unit, e2e) cover of lib/, printed as a
  // summary, against a floor that only goes up (docs/measurements.md, "Coverage"). The real-process
  // suites run dist/ in child processes: they count for nothing here. Istanbul instruments lib/
  // alone (babel provider): v8's provider works with ESM too, but in one process (--runInBand) it
  // processes every script loaded so far after each suite, about 40 % more time against 6 %.
  coverageProvider: 'babel',
  collectCoverageFrom: ['<rootDir>/lib/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  // each run gets its own temp folder; the teardown fails the run when a test left anything in it
  globalSetup: '<rootDir>/test/support/temp-folder.global-setup.ts',
  globalTeardown: '<rootDir>/test/support/temp-folder.global-teardown.ts',
};
