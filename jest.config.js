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
  // each run gets its own temp folder; the teardown fails the run when a test left anything in it
  globalSetup: '<rootDir>/test/support/temp-folder.global-setup.ts',
  globalTeardown: '<rootDir>/test/support/temp-folder.global-teardown.ts',
};
