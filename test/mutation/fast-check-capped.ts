/**
 * fast-check for mutation runs (jest.mutation.config.js maps 'fast-check' here): every property
 * runs at most MUTATION_PROPERTY_RUNS cases (default 50) instead of its hundreds. A mutant's run
 * executes every test that covers it, and the engine-wide properties cover most of lib/core:
 * at full size they cost seconds per mutant, hours per run. Seeds are kept, so a run is
 * reproducible; `npm test` runs every property in full.
 */
import fc from '../../node_modules/fast-check/lib/fast-check.js';

export * from '../../node_modules/fast-check/lib/fast-check.js';

const cap = Number(process.env.MUTATION_PROPERTY_RUNS ?? 50);

export const assert: typeof fc.assert = ((property: Parameters<typeof fc.assert>[0], params?: Parameters<typeof fc.assert>[1]) =>
  fc.assert(property, { ...params, numRuns: Math.min(params?.numRuns ?? 100, cap) })) as typeof fc.assert;

export default { ...fc, assert };
