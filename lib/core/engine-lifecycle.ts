/**
 * Whether a process has joined the cluster (see ClusterEngine.joinState):
 * - `joined`: it has synced with a peer at least once, or was given a view (`preload`);
 * - `alone`: it knows no other server at all, neither a member nor a seed (a cluster of one);
 * - `joining`: it knows other servers but has not synced with one yet.
 */
export type JoinState = 'joined' | 'alone' | 'joining';

/**
 * What happened to the engine itself (see ClusterEngine.onLifecycle): it started, stopped, was
 * given a view with `preload`, or joined (its first sync with a peer succeeded: `joinState()`
 * is now `joined`). The view or the join state changes then without membership events.
 */
export type EngineLifecycleEvent = 'started' | 'stopped' | 'preloaded' | 'joined';
