/**
 * Nest 12 is ESM-only, so jest runs in native-ESM mode (see package.json "test").
 * `npm test` runs the suites in groups (test/run-suites.mjs), chosen by CLUSTERSHAZBOT_SUITES:
 * 'rebuilds' (the suite that runs `npm start`, which rebuilds dist/: alone, first), then side by
 * side 'real-process' (suites that start servers or a browser in child processes) and
 * 'in-process' (the rest). Unset, a plain jest run takes every suite.
 */
const REBUILDS = ['cluster/npm-start-signals.spec.ts'];
const REAL_PROCESS = ['cluster/', 'cli/cli.spec.ts', 'dashboard/dashboard.spec.ts'];
const GROUPS = { rebuilds: REBUILDS, 'real-process': REAL_PROCESS };
const group = process.env.CLUSTERSHAZBOT_SUITES;
if (group !== undefined && !['rebuilds', 'real-process', 'in-process'].includes(group)) {
  throw new Error(`CLUSTERSHAZBOT_SUITES must be rebuilds, real-process or in-process, not ${JSON.stringify(group)}`);
}
const under = (path) => `<rootDir>/test/${path}`;
/** Suites of the named groups, as testMatch globs. */
const matching = (paths) => paths.map((path) => (path.endsWith('/') ? `${under(path)}**/*.spec.ts` : under(path)));
/** What the other groups run: in-process skips both, real-process skips the rebuilding one. */
const ignored = group === 'in-process' ? [...REBUILDS, ...REAL_PROCESS].map(under) : group === 'real-process' ? REBUILDS.map(under) : [];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  testMatch: group === 'rebuilds' || group === 'real-process' ? matching(GROUPS[group]) : ['<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/', ...ignored],
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
  // the floor: the last measured figures (docs/measurements.md, "Coverage"), rounded down; only goes up
  coverageThreshold: { global: { statements: 86, branches: 81, functions: 88, lines: 88 } },
  // each run gets its own temp folder; the teardown fails the run when a test left anything in it
  globalSetup: '<rootDir>/test/support/temp-folder.global-setup.ts',
  globalTeardown: '<rootDir>/test/support/temp-folder.global-teardown.ts',
};
