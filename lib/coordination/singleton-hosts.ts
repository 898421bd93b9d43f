import type { QuorumOption } from '../core/quorum.js';

/** What a decorated method's wrapper asks of the running module. */
export interface SingletonHost {
  /** Runs `fn` when this server runs `name` for this fire; resolves with its value, or undefined when skipped. */
  runDecorated(name: string, quorum: QuorumOption, fireTime: number, fn: () => unknown): Promise<unknown>;
}

/** Which module's coordination each instance with decorated methods belongs to (bound at module init). */
const bound = new WeakMap<object, SingletonHost>();
/** The coordination services running in this process. */
const live = new Set<SingletonHost>();

export function bindInstance(instance: object, host: SingletonHost): void {
  bound.set(instance, host);
}

export function addHost(host: SingletonHost): void {
  live.add(host);
}

export function removeHost(host: SingletonHost): void {
  live.delete(host);
}

/**
 * The host that runs a decorated method called on `instance`: the module that found the
 * instance among its application's providers and controllers; otherwise the only module
 * running in this process (a decorated method of a class Nest does not manage, in an app that
 * called shazbotStart). Undefined when there is none, or several and none found the instance.
 */
export function hostFor(instance: unknown): SingletonHost | undefined {
  if (typeof instance === 'object' && instance !== null) {
    const host = bound.get(instance);
    if (host) return host;
  }
  return live.size === 1 ? live.values().next().value : undefined;
}
