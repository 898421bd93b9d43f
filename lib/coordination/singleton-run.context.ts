import { AsyncLocalStorage } from 'node:async_hooks';
import type { SingletonRun } from '../core/singleton-coordinator.js';

/**
 * The run in progress, for code inside a singleton job. AsyncLocalStorage rather than an
 * argument or an injectable: the decorated method keeps the signature @nestjs/schedule calls
 * (no arguments), the key follows the job through every `await` and into whatever it calls (a
 * repository can read it without a new parameter), and two jobs running at once each see
 * their own.
 */
const runs = new AsyncLocalStorage<SingletonRun>();

/** Runs `fn` with `run` as the current singleton run. */
export function withSingletonRun<T>(run: SingletonRun, fn: () => T): T {
  return runs.run(run, fn);
}

/**
 * The fencing key of the singleton run this code is part of: `{ name, fireTime, runKey, owner,
 * generation, viewId }` (see SingletonRun). Undefined outside a run. Hand `runKey` to what the
 * job writes (a unique constraint makes a second effect of one fire fail), or compare
 * `fireTime` to refuse stale writes: during a view divergence two servers may run one fire,
 * and nothing else fences them.
 */
export function currentSingletonRun(): SingletonRun | undefined {
  return runs.getStore();
}
