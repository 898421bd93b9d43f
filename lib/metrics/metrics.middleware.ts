import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLUSTER_METRICS } from '../clustershazbot.constants.js';
import { messageTypeOf, type ClusterMetrics } from './cluster-metrics.js';

/**
 * Counts the requests to the module's endpoints once answered, from their status and
 * Content-Length: accepted ones by type and bytes, refused ones (by a guard, the validation
 * pipe or the depth check) by reason. Applied to the cluster controller only when metrics are
 * enabled. On both platforms Nest hands middleware the raw Node request and response.
 */
@Injectable()
export class ClusterMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics) {}

  use(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (error?: unknown) => void): void {
    const type = messageTypeOf(req.originalUrl ?? req.url ?? '');
    if (type) {
      res.once('finish', () => {
        const replyBytes = Number(res.getHeader('content-length') ?? 0);
        this.metrics.received(type, res.statusCode, Number(req.headers['content-length'] ?? 0), Number.isFinite(replyBytes) ? replyBytes : 0);
      });
    }
    next();
  }
}
