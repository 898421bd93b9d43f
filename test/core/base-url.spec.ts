import { endpointUrl, normalizeBaseUrl } from '../../lib/core/index.js';

describe('normalizeBaseUrl', () => {
  it.each([
    ['http://LOCALHOST:3000', 'http://localhost:3000/'],
    ['https://example.com:443/', 'https://example.com/'],
    ['http://127.0.0.1:80/app', 'http://127.0.0.1/app/'],
    ['http://[::1]:3000', 'http://[::1]:3000/'],
    ['http://[0:0:0:0:0:0:0:1]:3000/', 'http://[::1]:3000/'],
  ])('%s -> %s', (raw, normal) => expect(normalizeBaseUrl(raw)).toBe(normal));

  it.each([
    ['', /empty/],
    ['ftp://a/', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['http://user:pw@a/', /credentials/],
    ['http://a/?x=1', /query/],
    ['not a url', /absolute/],
    ['http://a/' + 'x'.repeat(3000), /longer than/],
  ])('refuses %s', (raw, message) => expect(() => normalizeBaseUrl(raw)).toThrow(message));

  it('builds endpoint URLs under the base path and route prefix', () => {
    expect(endpointUrl('http://a:1/', 'clustershazbot', 'gossip')).toBe('http://a:1/clustershazbot/gossip');
    expect(endpointUrl('http://a:1/svc/', '/api/cluster/', 'list')).toBe('http://a:1/svc/api/cluster/list');
    expect(endpointUrl('http://[::1]:1/', 'clustershazbot', 'gossip')).toBe('http://[::1]:1/clustershazbot/gossip');
  });
});
