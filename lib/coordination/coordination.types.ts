import type { QuorumOption } from '../core/quorum.js';
import type { SingletonRun, SingletonTransition, SkipReason } from '../core/singleton-coordinator.js';

/** Options of `@ClusterSingleton()` and `ClusterService.runSingleton()`. */
export interface ClusterSingletonOptions {
  /**
   * The singleton's name, the same on every server: its owner is `owner('singleton:' + name)`.
   * @default `ClassName.methodName` for the decorator (required for runSingleton)
   */
  name?: string;
  /**
   * What this server must see before it runs the job: `'majority'` (a strict majority of the
   * cluster's last known size alive), a number of servers alive (itself included), or `'none'`.
   * @default 'majority'
   */
  quorum?: QuorumOption;
}

/** Options of `ClusterService.runSingleton()` and `shazbotRunSingleton()`. */
export interface RunSingletonOptions {
  /** @default 'majority' (see ClusterSingletonOptions.quorum) */
  quorum?: QuorumOption;
  /**
   * The fire this call is for, ms since epoch: give the same value on every server for one fire
   * (e.g. the scheduled time) so that `runKey` is equal wherever it runs. @default Date.now()
   */
  fireTime?: number;
}

/** What `runSingleton` did. */
export type SingletonOutcome<T> =
  | { ran: true; value: T; run: SingletonRun }
  | { ran: false; reason: SkipReason; detail: string; owner?: string };

/**
 * A singleton event of this server (`ClusterService.singletonEvents$`):
 * - `run`: this server is running a fire (with its fencing key);
 * - `skipped`: it did not, and why (`not-owner`, `no-quorum`, `not-joined`, `hand-over`);
 * - `acquired` / `released`: it became, or stopped being, the server that runs the singleton
 *   (logged once per change).
 */
export type SingletonEvent =
  | { type: 'run'; name: string; fireTime: number; run: SingletonRun }
  | { type: 'skipped'; name: string; fireTime: number; reason: SkipReason; detail: string; owner?: string; viewId: string }
  | SingletonTransition;
