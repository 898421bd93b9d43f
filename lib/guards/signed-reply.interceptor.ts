import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { canonicalJson } from '../security/canonical-json.js';
import { REPLY_SIGNATURE_HEADER } from '../security/reply-signature.js';
import { replyKeyOf, setResponseHeader, type HeaderTarget } from './signed-request.guard.js';
import { replySignatureHeader } from './signed-request.js';

/**
 * Signs the answer of every request a SignedRequestGuard accepted (see
 * `security/reply-signature.ts`): the body goes out as its canonical JSON, the very text the
 * Shazbot-Signature header covers, so the requester hashes the bytes it received and
 * rebuilds nothing. A host interceptor that rewrites responses after this one breaks the
 * signature, and peers then refuse the reply.
 */
@Injectable()
export class SignedReplyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const key = replyKeyOf(http.getRequest<object>());
    if (!key) return next.handle();
    return next.handle().pipe(
      map((body: unknown) => {
        const text = canonicalJson(body);
        const response = http.getResponse<HeaderTarget>();
        setResponseHeader(response, 'content-type', 'application/json; charset=utf-8');
        setResponseHeader(response, REPLY_SIGNATURE_HEADER, replySignatureHeader(key, 200, text));
        return text;
      }),
    );
  }
}
