import { endpointUrl, InvalidBaseUrlError, isValidBaseUrl, MAX_BASE_URL_LENGTH, normalizeBaseUrl } from '../../lib/core/index.js';

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

describe('normalizeBaseUrl, edges', () => {
  it('names its error, and says "empty" for an empty string', () => {
    let caught: unknown;
    try {
      normalizeBaseUrl('');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidBaseUrlError);
    expect(caught).toMatchObject({ name: 'InvalidBaseUrlError', message: 'invalid base URL: empty' });
  });

  it('takes a URL of exactly 2048 characters, refuses one of 2049', () => {
    const at = (n: number) => 'http://a/' + 'x'.repeat(n - 'http://a/'.length - 1) + '/';
    expect(normalizeBaseUrl(at(MAX_BASE_URL_LENGTH))).toBe(at(MAX_BASE_URL_LENGTH));
    expect(() => normalizeBaseUrl(at(MAX_BASE_URL_LENGTH + 1))).toThrow('longer than 2048 characters');
  });

  it('refuses a user name alone, or a password alone', () => {
    expect(() => normalizeBaseUrl('http://user@a/')).toThrow(/credentials/);
    expect(() => normalizeBaseUrl('http://:pw@a/')).toThrow(/credentials/);
  });

  it('isValidBaseUrl: true for a valid URL, false for an invalid one or a non-string', () => {
    expect(isValidBaseUrl('http://a:1')).toBe(true);
    expect(isValidBaseUrl('ftp://a/')).toBe(false);
    expect(isValidBaseUrl(42)).toBe(false);
    expect(isValidBaseUrl(undefined)).toBe(false);
  });

  it('strips every leading and trailing slash of the route prefix', () => {
    expect(endpointUrl('http://a:1/svc/', '//api//', 'list')).toBe('http://a:1/svc/api/list');
  });
});
