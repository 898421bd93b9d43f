import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { CLUSTER_ENGINE } from './clustershazbot.constants.js';
import type { ClusterEngine, EngineStats } from './core/cluster-engine.js';
import type { MemberEntry, MembershipChange } from './core/membership-view.js';
import type { ControlMessage, GossipMessage, GossipServer, ProbeAck, ProbeMessage, ServerList } from './core/types.js';
import { GossipService, type LifecycleState, type MasterListStatus } from './gossip.service.js';

/** The page's health extension object. */
export type ClusterHealthExtension =
  | { status: 'ok'; cluster: { online: GossipServer[]; offline: GossipServer[] } }
  | { status: 'error'; error: string };

export interface ClusterStatus {
  state: LifecycleState;
  failure?: string;
  masterList: MasterListStatus;
  stats: EngineStats;
}

/** What a host app injects: the live view, this server, online/offline control and change events. */
@Injectable()
export class ClusterService implements OnModuleDestroy {
  private readonly logger = new Logger('Clustershazbot');
  private readonly changeSubject = new Subject<MembershipChange>();
  private readonly unsubscribe: () => void;

  /** Membership transitions as they are learned: joined, offline, online (came back), removed. */
  readonly changes$: Observable<MembershipChange> = this.changeSubject.asObservable();

  constructor(
    @Inject(CLUSTER_ENGINE) private readonly engine: ClusterEngine,
    private readonly gossip: GossipService,
  ) {
    this.unsubscribe = engine.onChange((change) => this.changeSubject.next(change));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    this.changeSubject.complete();
  }

  /** The current view in the page's wire form. */
  view(): ServerList & { offline: GossipServer[] } {
    const list = this.engine.snapshot();
    return { online: list.online, offline: list.offline ?? [] };
  }

  /** This server's own entry. */
  self(): MemberEntry {
    return this.engine.self();
  }

  /** Takes this server offline (it stays a member and keeps gossiping) or back online. */
  setOnline(online: boolean): void {
    if (this.engine.setOnline(online)) this.logger.log(`this server is now ${online ? 'online' : 'offline'}`);
  }

  status(): ClusterStatus {
    return { state: this.gossip.state, failure: this.gossip.failureReason, masterList: this.gossip.masterListStatus(), stats: this.engine.stats() };
  }

  /** The page's extension object for health and monitoring endpoints. */
  healthExtension(): ClusterHealthExtension {
    const { state, failure } = this.status();
    if (state !== 'running') return { status: 'error', error: failure ?? `clustershazbot is ${state === 'idle' ? 'not started' : state}` };
    return { status: 'ok', cluster: this.view() };
  }

  /** Answers a gossip message (already authenticated and validated). */
  receiveGossip(message: GossipMessage): ServerList {
    return this.engine.handleGossip(message);
  }

  /** Answers a liveness probe (already authenticated and validated). */
  receiveProbe(message: ProbeMessage): Promise<ProbeAck> {
    return this.engine.handleProbe(message);
  }

  /** Applies a control message (already authenticated and validated); `from` goes in the audit line. */
  control(message: ControlMessage, from: string): void {
    this.logger.log(`control from ${from}: set ${message.online ? 'online' : 'offline'}`);
    this.setOnline(message.online);
  }
}
