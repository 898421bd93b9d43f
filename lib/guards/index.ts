export * from './shared-secret.guard.js';
export * from './control-secret.guard.js';
export { SignedRequestGuard } from './signed-request.guard.js';
export { SignedReplyInterceptor } from './signed-reply.interceptor.js';
