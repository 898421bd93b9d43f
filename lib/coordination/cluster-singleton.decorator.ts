import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { assertQuorumOption, type QuorumOption } from '../core/quorum.js';
import { messages } from '../clustershazbot.messages.js';
import type { ClusterSingletonOptions } from './coordination.types.js';
import { hostFor } from './singleton-hosts.js';

/** Metadata key of a decorated method: `{ name, quorum }` (read by the module at init). */
export const CLUSTER_SINGLETON_METADATA = 'clustershazbot:singleton';

/**
 * Where @nestjs/schedule 12 keeps a `@Cron()` method's options (the value of its
 * `SCHEDULE_CRON_OPTIONS`, which the package does not export); a test checks it still does.
 */
export const SCHEDULE_CRON_METADATA = 'SCHEDULE_CRON_OPTIONS';

export interface ClusterSingletonMetadata {
  name: string;
  quorum: QuorumOption;
}

const OPTION_KEYS = new Set(['name', 'quorum']);
const logger = new Logger('Clustershazbot');
const reportedUnbound = new Set<string>();

/**
 * Makes a method a cluster singleton: its body runs only on the server that owns
 * `singleton:<name>` (rendezvous hashing over the online and suspect members), and only while
 * that server has joined, sees its quorum and is past any hand-over delay; elsewhere the call
 * resolves with `undefined` without running it. Composes with `@Cron()`, `@Interval()` and
 * `@Timeout()` of @nestjs/schedule in either order (their metadata is kept).
 *
 * The decorated method returns a Promise: of the method's value when it ran, of `undefined`
 * when it was skipped (see `ClusterService.singletonEvents$` for why). Inside the run,
 * `currentSingletonRun()` gives the fencing key `{ name, fireTime, runKey, owner, generation,
 * viewId }`; for a `@Cron` job `fireTime` is the fire's second, equal on every server.
 *
 * The class must be a provider or controller of an application that imports
 * ClustershazbotModule (or, in an Express app, the process must have called shazbotStart()).
 *
 * @param options `name` (default `ClassName.methodName`), `quorum` (`'majority'` by default, a
 *   number of servers, or `'none'`).
 * @throws TypeError at class definition when applied to something other than a method, or
 *   when an option is unknown or invalid.
 */
export function ClusterSingleton(options: ClusterSingletonOptions = {}): MethodDecorator {
  for (const key of Object.keys(options ?? {})) if (!OPTION_KEYS.has(key)) throw new TypeError(messages.singletonUnknownOption(key));
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) throw new TypeError(messages.singletonBadName(options.name));
  const quorum = options.quorum ?? 'majority';
  assertQuorumOption(quorum, '@ClusterSingleton()');
  return (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => {
    const original: unknown = descriptor?.value;
    const owner = typeof target === 'function' ? target : target.constructor;
    if (typeof original !== 'function') throw new TypeError(messages.singletonNotMethod(`${owner?.name ?? '?'}.${String(propertyKey)}`));
    const name = options.name ?? `${owner.name}.${String(propertyKey)}`;
    const method = original as (...args: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const host = hostFor(this);
      if (!host) {
        if (!reportedUnbound.has(name)) {
          reportedUnbound.add(name);
          logger.error(messages.singletonUnbound(name));
        }
        return Promise.resolve(undefined);
      }
      const now = Date.now();
      // a cron fires on a whole second on every server: that second names the fire everywhere
      const fireTime = Reflect.hasMetadata(SCHEDULE_CRON_METADATA, wrapped) ? Math.round(now / 1000) * 1000 : now;
      return host.runDecorated(name, quorum, fireTime, () => method.apply(this, args));
    };
    // keep what decorators applied before this one stored on the method (@Cron below @ClusterSingleton)
    for (const key of Reflect.getOwnMetadataKeys(method)) Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), wrapped);
    Object.defineProperty(wrapped, 'name', { value: method.name, configurable: true });
    const metadata: ClusterSingletonMetadata = { name, quorum };
    Reflect.defineMetadata(CLUSTER_SINGLETON_METADATA, metadata, wrapped);
    descriptor.value = wrapped;
    return descriptor;
  };
}
