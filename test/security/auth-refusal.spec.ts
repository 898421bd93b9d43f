import { authRefusalText, type AuthRefusalReason } from '../../lib/security/auth-refusal.js';
import { FailedAuthLimiter } from '../../lib/security/failed-auth-limiter.js';

describe('authRefusalText: the refusing server names the sender and the likely cause', () => {
  const at = { client: '10.0.0.7', endpoint: 'sync', cluster: 'blue' };

  it.each<[AuthRefusalReason, RegExp]>([
    ['bad-signature', /^refused a request to sync from 10\.0\.0\.7 \(401\): .*Its SHAZBOT_SECRET \(option secret\) differs from this server's/],
    ['expired', /\(401\): its signature is stamped further in the past than the signature window \(SHAZBOT_SIGNATURE_WINDOW\): its clock or this server's is off/],
    ['future', /\(401\): its signature is stamped further ahead than the signature window/],
    ['replayed', /\(401\): its signature was already used/],
    ['missing', /\(401\): no valid signature \(Authorization header missing\): it is no clustershazbot peer/],
    ['malformed', /\(401\): no valid signature \(Authorization header malformed\)/],
    ['wrong-cluster', /\(403\): it signed for another cluster\. Its SHAZBOT_CLUSTER \(option cluster\) differs from this server's 'blue'$/],
  ])('%s', (reason, expected) => {
    expect(authRefusalText({ ...at, reason })).toMatch(expected);
  });

  it('names the control secret for the control endpoint, and escapes the address', () => {
    expect(authRefusalText({ ...at, endpoint: 'control', reason: 'bad-signature' })).toContain('Its SHAZBOT_CONTROL_SECRET (option controlSecret) differs');
    expect(authRefusalText({ ...at, client: 'x\nwarn: forged', reason: 'missing' })).toContain('from x\\u000awarn: forged (401)');
  });

  it('FailedAuthLimiter hands each failure with a cause to its listeners, counts every one', () => {
    const limiter = new FailedAuthLimiter(5);
    const seen: string[] = [];
    const stop = limiter.onFailure((r) => seen.push(`${r.client} ${r.endpoint} ${r.reason}`));
    limiter.recordFailure('10.0.0.7', { endpoint: 'probe', reason: 'bad-signature', cluster: 'blue' });
    limiter.recordFailure('10.0.0.8'); // no cause: counted, not told
    stop();
    limiter.recordFailure('10.0.0.9', { endpoint: 'probe', reason: 'expired', cluster: 'blue' });
    expect(seen).toEqual(['10.0.0.7 probe bad-signature']);
    expect(limiter.refusedTotal).toBe(3);
  });
});
