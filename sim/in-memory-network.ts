/**
 * The one in-memory network of the core tests and the simulator: real engines, real wire
 * messages (each request and reply is serialised to JSON and parsed back, so nothing is shared
 * by reference and sizes are counted), and a transport per server. Two modes:
 * - immediate (no timer): a request is answered within the same turn of the event loop and no
 *   time passes; a dropped request fails at once as a timeout. For unit tests that drive rounds
 *   by hand.
 * - scheduled (a timer): every hop takes `latency()` of virtual time on the simulator's event
 *   queue, and a request unanswered within its timeout rejects, as a real one does.
 * Faults come from hooks: what happens to each request, whether a reply is lost, which servers
 * are frozen (SIGSTOP: accept, never answer, their own timers wait) or gone.
 */
import type { ClusterEngine } from '../lib/core/cluster-engine.js';
import type { GossipTransport } from '../lib/core/transport.js';

/** What happens to one request: answered, refused by the peer's host (nothing listens), or lost (it times out). */
export type RequestFate = 'deliver' | 'refuse' | 'drop';

export interface NetworkHooks {
  /** The fate of a request from → to. Default: delivered to an attached server, refused otherwise. */
  fate?(from: string, to: string): RequestFate;
  /** Whether the reply from → to is lost (asked once per reply, after the request was handled). */
  replyLost?(from: string, to: string): boolean;
  /** A frozen server accepts connections and answers nothing; its own timeouts and replies wait until it resumes. */
  frozen?(url: string): boolean;
  /** A server that is gone (killed) handles nothing and receives no replies. */
  gone?(url: string): boolean;
  /** Sees every request as sent (tests that inspect messages). */
  onRequest?(from: string, to: string, endpoint: 'gossip' | 'probe' | 'sync', message: object): void;
}

export interface NetworkOptions {
  /** Virtual-time scheduling; absent: immediate mode. */
  timer?: { after(delayMs: number, run: () => void): void };
  /** Delay of one hop (scheduled mode). */
  latency?: () => number;
  /** Deadline of gossip and sync requests (probes carry their own). */
  requestTimeoutMs?: number;
  /** Real timers fire a little late, never early: timeouts fire this much after their deadline. */
  timerSlackMs?: number;
  hooks?: NetworkHooks;
}

/** While a frozen server resumes, its pending work is retried this often. */
const FROZEN_POLL_MS = 50;

export class InMemoryNetwork {
  /** Characters of every request and reply sent (JSON text). */
  bytes = 0;
  /** Requests and replies sent. */
  messages = 0;
  /** Requests sent. */
  requests = 0;
  private readonly engines = new Map<string, ClusterEngine>();

  constructor(private readonly options: NetworkOptions = {}) {}

  /** Makes `engine` answer at `url` (a restart attaches the new engine in place of the old). */
  attach(url: string, engine: ClusterEngine): void {
    this.engines.set(url, engine);
  }

  detach(url: string): void {
    this.engines.delete(url);
  }

  engine(url: string): ClusterEngine | undefined {
    return this.engines.get(url);
  }

  /** The transport of the server at `from`. */
  transportFor(from: string): GossipTransport {
    const timeout = this.options.requestTimeoutMs ?? 5000;
    return {
      exchange: (peer, message, timeoutMs) => this.call(from, peer, 'gossip', message, timeoutMs ?? timeout, (e, body) => e.handleGossip(body)),
      probe: (peer, message, timeoutMs) => this.call(from, peer, 'probe', message, timeoutMs, (e, body) => e.handleProbe(body)),
      sync: (peer, message) => this.call(from, peer, 'sync', message, timeout, (e, body) => e.handleSync(body)),
    };
  }

  private fate(from: string, to: string): RequestFate {
    if (this.options.hooks?.fate) return this.options.hooks.fate(from, to);
    return this.engines.has(to) ? 'deliver' : 'refuse';
  }

  private send(text: string): void {
    this.bytes += text.length;
    this.messages++;
  }

  private call<T>(from: string, to: string, endpoint: 'gossip' | 'probe' | 'sync', message: object, timeoutMs: number, handle: (engine: ClusterEngine, body: never) => Promise<T> | T): Promise<T> {
    return this.options.timer ? this.scheduled(from, to, endpoint, message, timeoutMs, handle) : this.immediate(from, to, endpoint, message, handle);
  }

  private async immediate<T>(from: string, to: string, endpoint: 'gossip' | 'probe' | 'sync', message: object, handle: (engine: ClusterEngine, body: never) => Promise<T> | T): Promise<T> {
    const hooks = this.options.hooks;
    const text = JSON.stringify(message);
    this.send(text);
    this.requests++;
    hooks?.onRequest?.(from, to, endpoint, message);
    const fate = this.fate(from, to);
    const engine = this.engines.get(to);
    if (fate === 'refuse' || (fate === 'deliver' && !engine)) throw refused();
    if (fate === 'drop' || hooks?.frozen?.(to) || hooks?.gone?.(to)) throw new Error('timed out');
    const reply = await handle(engine!, JSON.parse(text) as never);
    const replyText = JSON.stringify(reply);
    this.send(replyText);
    if (hooks?.replyLost?.(to, from)) throw new Error('timed out');
    return JSON.parse(replyText) as T;
  }

  private scheduled<T>(from: string, to: string, endpoint: 'gossip' | 'probe' | 'sync', message: object, timeoutMs: number, handle: (engine: ClusterEngine, body: never) => Promise<T> | T): Promise<T> {
    const { timer, hooks } = this.options;
    const after = (ms: number, run: () => void) => timer!.after(ms, run);
    const latency = () => this.options.latency?.() ?? 0;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // a frozen process runs nothing: its timeouts and incoming replies wait until it resumes
      const whenRunning = (run: () => void) => {
        const attempt = () => (hooks?.frozen?.(from) ? after(FROZEN_POLL_MS, attempt) : run());
        attempt();
      };
      after(timeoutMs + (this.options.timerSlackMs ?? 0), () =>
        whenRunning(() => {
          if (!settled) {
            settled = true;
            reject(new Error('timed out'));
          }
        }),
      );
      const text = JSON.stringify(message);
      this.send(text);
      this.requests++;
      hooks?.onRequest?.(from, to, endpoint, message);
      const fate = this.fate(from, to);
      if (fate === 'drop') return;
      if (fate === 'refuse') {
        after(latency(), () => {
          if (!settled) {
            settled = true;
            reject(refused());
          }
        });
        return;
      }
      const unavailable = () => !!hooks?.frozen?.(to) || !!hooks?.gone?.(to);
      after(latency(), () => {
        const engine = this.engines.get(to);
        if (!engine || unavailable()) return;
        void Promise.resolve(handle(engine, JSON.parse(text) as never)).then((reply) => {
          if (unavailable()) return;
          const replyText = JSON.stringify(reply);
          this.send(replyText);
          if (hooks?.replyLost?.(to, from)) return;
          after(latency(), () =>
            whenRunning(() => {
              if (!settled && !hooks?.gone?.(from)) {
                settled = true;
                resolve(JSON.parse(replyText) as T);
              }
            }),
          );
        });
      });
    });
  }
}

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}
