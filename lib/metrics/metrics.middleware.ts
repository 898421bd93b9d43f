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
/**
 * The Content-Length the reply went out with. Express sets it with setHeader; Fastify passes its
 * headers to writeHead, which leaves getHeader empty, so the header block as written is read.
 */
function replyLength(res: ServerResponse): number {
  const set = res.getHeader('content-length');
  if (set !== undefined) return Number(set) || 0;
  const written = (res as unknown as { _header?: unknown })._header;
  const match = typeof written === 'string' ? /\r\ncontent-length:[ \t]*(\d+)/i.exec(written) : null;
  return match ? Number(match[1]) : 0;
}

@Injectable()
export class ClusterMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(CLUSTER_METRICS) private readonly metrics: ClusterMetrics) {}

  use(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (error?: unknown) => void): void {
    const type = messageTypeOf(req.originalUrl ?? req.url ?? '');
    if (type) {
      res.once('finish', () => this.metrics.received(type, res.statusCode, Number(req.headers['content-length'] ?? 0), replyLength(res)));
    }
    next();
  }
}
