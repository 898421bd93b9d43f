/**
 * Every tunable of the protocol core, with its default written once. The Nest shell reads the
 * defaults from here (options, environment variables and their `@default` docs must agree: a
 * test holds them together), as memberlist keeps its tunables in one Config struct with
 * `DefaultLANConfig`, `DefaultWANConfig` and `DefaultLocalConfig`.
 */

/** Bounds on key/value state; every server of a cluster must use the same. */
export interface StateLimits {
  /** Longest key, in characters. */
  maxKeyLength: number;
  /** Largest value, in bytes of its JSON. */
  maxValueBytes: number;
  /** Most keys one server may hold (tombstones included). */
  maxKeysPerServer: number;
  /** Tombstones (and expired keys) are forgotten this long after they were made or learned. */
  tombstoneGraceMs: number;
  /**
   * Most bytes one server's whole state may take on the wire, tombstones included, so that a
   * reset (the full list of its keys, never cut) fits in one message. Derived from the message
   * budget (`stateBytesBound(messageBudgetBytes)`, 15,872 for the default 16 KiB); a smaller
   * value given here lowers it, a larger one is capped at it.
   */
  maxBytesPerServer?: number;
}

/** Room a sync message needs around one server's full state (its envelope and the delta's); a quarter of a smaller budget. */
export const STATE_RESET_HEADROOM_BYTES = 512;

/**
 * The most bytes one server's whole state may take on the wire for a message budget of
 * `messageBudgetBytes`: the budget less room for the message around a reset,
 * `min(STATE_RESET_HEADROOM_BYTES, budget / 4)`. 15,872 for the default 16 KiB budget.
 */
export function stateBytesBound(messageBudgetBytes: number): number {
  return messageBudgetBytes - Math.min(STATE_RESET_HEADROOM_BYTES, Math.floor(messageBudgetBytes / 4));
}

/** Most servers in one view, in one list on the wire, and in a master list: one bound for all three. */
export const MAX_SERVERS = 10_000;

/**
 * Key/value limits: 128-character keys, 4 KB values, 256 keys per server, tombstones kept 1 h.
 * No `maxBytesPerServer`: it follows the message budget (see `stateBytesBound`).
 */
export const DEFAULT_STATE_LIMITS: Required<Omit<StateLimits, 'maxBytesPerServer'>> = {
  maxKeyLength: 128,
  maxValueBytes: 4096,
  maxKeysPerServer: 256,
  tombstoneGraceMs: 3_600_000,
};

/** Failure-detector tunables (SWIM with Lifeguard); see `DETECTOR_PROFILES`. */
export interface DetectorSettings {
  /** Probe one member every this often. 0 disables failure detection. */
  probeIntervalMs: number;
  /** A direct probe not acknowledged within this is followed by indirect probes. */
  probeTimeoutMs: number;
  /** How many other members are asked to probe an unresponsive one. */
  indirectChecks: number;
  /** Minimum suspicion timeout = suspicionMult · max(1, log10 N) probe intervals. */
  suspicionMult: number;
  /** Suspicion starts at this multiple of the minimum, shrinking with confirmations. */
  suspicionMaxMult: number;
  /** Each change rides on this many · ceil(log10(N + 1)) probes, acks and pushes. */
  retransmitMult: number;
  /**
   * While changes wait to be sent, push them to `pushFanout` random members this often
   * (memberlist's GossipInterval and GossipNodes). Idle when nothing waits. 0 disables pushes:
   * changes then ride on probes and acks only.
   */
  pushIntervalMs: number;
  pushFanout: number;
  /** At most this many changes per probe or ack, or half the queue when it is deeper (within the byte budget). */
  maxPiggyback: number;
  /** Local health multiplier cap (Lifeguard): probe timeouts scale by (score + 1). */
  awarenessMax: number;
  /** Flap damping: half-life of the per-server transition penalty. */
  flapHalfLifeMs: number;
  /** Flap damping: penalty above which suspicion timeouts lengthen. */
  flapThreshold: number;
  /**
   * An established member whose port refused both our direct probes and every indirect
   * helper's is declared offline at once instead of after a suspicion (nothing listens there:
   * the process is gone). Not while its flap penalty is above the threshold, nor while our own
   * health is degraded.
   */
  fastFailOnRefusal: boolean;
}

/** The protocol's tunables; the Nest shell fills them from options and environment. */
export interface EngineSettings extends DetectorSettings {
  /** This server's normalised base URL. */
  selfUrl: string;
  monitor: boolean;
  /** Stamps further ahead of the wall clock than this are refused. */
  maxClockSkewMs: number;
  /** Entries whose stamp is older than this are removed, and refused when gossiped back. */
  retentionMs: number;
  /** A live server re-stamps its own entry this often, so its entry never ages out. */
  renewEveryMs: number;
  /** Share of rounds that go to a monitor when monitors and other servers are both known. */
  monitorPreference: number;
  /** Share of gossip rounds and probes that go to an offline server or seed (reconnect, partition healing). */
  offlineProbeProbability: number;
  /**
   * Byte budget of one message (sync legs, and what probes and acks piggyback). What does not
   * fit waits for later rounds, most stale first.
   */
  messageBudgetBytes: number;
  /** Bounds on key/value state. */
  stateLimits: StateLimits;
}

/** Profiles as in memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig. */
export const DETECTOR_PROFILES = {
  lan: { probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxMult: 6, retransmitMult: 4, pushIntervalMs: 200, pushFanout: 3 },
  wan: { probeIntervalMs: 5000, probeTimeoutMs: 3000, indirectChecks: 3, suspicionMult: 6, suspicionMaxMult: 6, retransmitMult: 4, pushIntervalMs: 500, pushFanout: 4 },
  local: { probeIntervalMs: 1000, probeTimeoutMs: 200, indirectChecks: 3, suspicionMult: 3, suspicionMaxMult: 6, retransmitMult: 2, pushIntervalMs: 100, pushFanout: 3 },
} as const satisfies Record<string, Partial<DetectorSettings>>;

/** The failure-detection profiles (`failureDetection` option): `lan`, `wan`, `local`. */
export type DetectorProfile = keyof typeof DETECTOR_PROFILES;

/** The retention period: the package page's 24 h. */
const RETENTION_MS = 24 * 3_600_000;

export const DEFAULT_ENGINE_SETTINGS = {
  monitor: false,
  maxClockSkewMs: 10 * 60_000,
  retentionMs: RETENTION_MS,
  // a quarter of the retention: a live server's entry is renewed long before it could age out
  renewEveryMs: RETENTION_MS / 4,
  monitorPreference: 0.5,
  offlineProbeProbability: 0.1,
  messageBudgetBytes: 16_384,
  stateLimits: DEFAULT_STATE_LIMITS,
  ...DETECTOR_PROFILES.lan,
  maxPiggyback: 64,
  awarenessMax: 8,
  flapHalfLifeMs: 60_000,
  flapThreshold: 3,
  fastFailOnRefusal: true,
} satisfies Omit<EngineSettings, 'selfUrl'>;
