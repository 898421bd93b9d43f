import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { AddressGuard } from '../../lib/security/address-guard.js';

describe('AddressGuard', () => {
  it('refuses link-local and cloud-metadata addresses by default, accepts the rest', () => {
    const guard = new AddressGuard();
    for (const url of ['http://169.254.169.254/', 'http://[fe80::1]:80/', 'http://metadata.google.internal/', 'http://100.100.100.200/', 'http://[fd00:ec2::254]/', 'http://0.0.0.0:80/', 'http://224.0.0.1/']) {
      expect([url, guard.acceptsUrl(url)]).toEqual([url, false]);
    }
    for (const url of ['http://10.0.0.5:3000/', 'http://127.0.0.1:1/', 'https://app.example.com/', 'http://[::1]:3000/']) expect(guard.acceptsUrl(url)).toBe(true);
    expect(guard.acceptsUrl('ftp://10.0.0.5/')).toBe(false);
  });

  it('with an allow-list, accepts only matching CIDRs, addresses, names and ports', () => {
    const guard = new AddressGuard(['10.0.0.0/8:3000', '192.168.1.7', '[fd00::/8]:8443', '*.internal', 'edge.example.com:443', '169.254.10.0/24']);
    expect(guard.acceptsUrl('http://10.1.2.3:3000/')).toBe(true);
    expect(guard.acceptsUrl('http://10.1.2.3:3001/')).toBe(false);
    expect(guard.acceptsUrl('http://192.168.1.7:9999/')).toBe(true);
    expect(guard.acceptsUrl('http://192.168.1.8/')).toBe(false);
    expect(guard.acceptsUrl('https://[fd12::1]:8443/')).toBe(true);
    expect(guard.acceptsUrl('https://[fd12::1]:8444/')).toBe(false);
    expect(guard.acceptsUrl('http://db.internal:5000/')).toBe(true);
    expect(guard.acceptsUrl('https://edge.example.com/')).toBe(true);
    expect(guard.acceptsUrl('http://edge.example.com/')).toBe(false);
    expect(guard.acceptsUrl('http://169.254.10.9/')).toBe(true); // link-local, but listed explicitly
    expect(guard.acceptsUrl('http://169.254.169.254/')).toBe(false);
  });

  it('refuses malformed allow-list entries with a clear message', () => {
    expect(() => new AddressGuard(['10.0.0.0/33'])).toThrow('allowed peer "10.0.0.0/33" has an invalid prefix length');
    expect(() => new AddressGuard(['host:99999'])).toThrow('allowed peer "host:99999" is not a CIDR, address or host name, with an optional :port');
    expect(() => new AddressGuard(['bad host!'])).toThrow('is not a CIDR, address or host name');
  });

  it('refuses a name that resolves to a refused address at connect time', async () => {
    const guard = new AddressGuard();
    const resolve = (name: string) =>
      new Promise<string>((ok) => guard.lookup(name, {}, (error, address) => ok(error ? `refused: ${error.message}` : String(address))));
    expect(await resolve('localhost')).toMatch(/^(127\.0\.0\.1|::1)$/);
    // 169.254.169.254 written as a name that the resolver returns unchanged
    expect(await resolve('169.254.169.254')).toBe('refused: 169.254.169.254 resolves to an address the address guard refuses');
  });
  it('refuses every metadata name by default: metadata.google.internal, metadata.goog and the bare metadata', () => {
    const guard = new AddressGuard();
    for (const url of ['http://metadata.google.internal/', 'http://metadata.goog/', 'http://metadata/', 'http://METADATA.GOOG/']) expect([url, guard.acceptsUrl(url)]).toEqual([url, false]);
    expect(guard.acceptsUrl('http://metadata.example.com/')).toBe(true);
    expect(new AddressGuard(['metadata.goog']).acceptsUrl('http://metadata.goog/')).toBe(true); // listed explicitly
  });

  it('refuses a base URL that is no URL', () => {
    const guard = new AddressGuard();
    for (const url of ['not a url', '', 'http://', '10.0.0.5:3000']) expect([url, guard.acceptsUrl(url)]).toEqual([url, false]);
  });

  it('reads allow-list entries with the spaces an environment variable leaves around them', () => {
    const guard = new AddressGuard([' 10.0.0.0/8 ', '\tedge.example.com:443 ']);
    expect(guard.acceptsUrl('http://10.1.2.3:3000/')).toBe(true);
    expect(guard.acceptsUrl('https://edge.example.com/')).toBe(true);
    expect(guard.acceptsUrl('http://192.168.1.7/')).toBe(false);
  });

  it('reads IPv6 entries bare or bracketed, with or without a port or prefix', () => {
    const guard = new AddressGuard(['fd00::/8', '::1', '[fd12::5]', '[2001:db8::/32]:3000', 'fc00::/64']);
    expect(guard.acceptsUrl('http://[fd00::7]:9000/')).toBe(true);
    expect(guard.acceptsUrl('http://[::1]:1/')).toBe(true);
    expect(guard.acceptsUrl('http://[fd12::5]:80/')).toBe(true);
    expect(guard.acceptsUrl('http://[2001:db8::9]:3000/')).toBe(true);
    expect(guard.acceptsUrl('http://[2001:db8::9]:3001/')).toBe(false);
    expect(guard.acceptsUrl('http://[fc00::1]/')).toBe(true);
    expect(guard.acceptsUrl('http://[fc00:0:0:1::1]/')).toBe(false); // outside the /64
    expect(guard.acceptsUrl('http://[2001:db9::1]:3000/')).toBe(false);
  });

  it('accepts the ports 1 and 65535 and the prefixes /0 and /32, the ends of their ranges', () => {
    expect(new AddressGuard(['edge.example.com:1']).acceptsUrl('http://edge.example.com:1/')).toBe(true);
    expect(new AddressGuard(['edge.example.com:65535']).acceptsUrl('http://edge.example.com:65535/')).toBe(true);
    expect(new AddressGuard(['10.0.0.0/8:1']).acceptsUrl('http://10.0.0.1:1/')).toBe(true);
    const all = new AddressGuard(['0.0.0.0/0']);
    expect(all.acceptsUrl('http://192.168.1.7/')).toBe(true);
    const one = new AddressGuard(['10.0.0.5/32']);
    expect(one.acceptsUrl('http://10.0.0.5/')).toBe(true);
    expect(one.acceptsUrl('http://10.0.0.6/')).toBe(false);
  });

  it.each([
    ['host:0', 'is not a CIDR, address or host name, with an optional :port'],
    ['host:1.5', 'is not a CIDR, address or host name, with an optional :port'],
    ['[fd00::1]:0', 'is not a CIDR, address or host name, with an optional :port'],
    ['x[fd00::1]:3000', 'is not a CIDR, address or host name, with an optional :port'],
    ['[fd00::1]:3000x', 'is not a CIDR, address or host name, with an optional :port'],
    ['app_1.internal', 'is not a CIDR, address or host name, with an optional :port'],
    ['bad host', 'is not a CIDR, address or host name, with an optional :port'],
    ['10.0.0.0/x', 'has an invalid prefix length'],
    ['10.0.0.0/-1', 'has an invalid prefix length'],
    ['10.0.0.0/8.5', 'has an invalid prefix length'],
    ['fd00::/129', 'has an invalid prefix length'],
  ])('refuses the allow-list entry %s with a message naming it', (entry, message) => {
    expect(() => new AddressGuard([entry])).toThrow(`allowed peer "${entry}" ${message}`);
  });

  it('matches an exact name only as itself, a *. pattern any name under it', () => {
    const guard = new AddressGuard(['edge.example.com', '*.internal']);
    expect(guard.acceptsUrl('https://edge.example.com/')).toBe(true);
    expect(guard.acceptsUrl('https://ledge.example.com/')).toBe(false);
    expect(guard.acceptsUrl('https://other.example.com/')).toBe(false);
    expect(guard.acceptsUrl('https://a.b.internal/')).toBe(true);
    expect(guard.acceptsUrl('https://internal/')).toBe(false);
  });

  describe('lookup, the check at connect time', () => {
    type Answer = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };
    const resolve = (guard: AddressGuard, name: string, all = false) =>
      new Promise<Answer>((ok) => guard.lookup(name, { all }, (error, address, family) => ok({ error, address, family })));

    it('refuses a name resolving only to refused addresses with the EADDRREFUSED code, IPv6 link-local included', async () => {
      const guard = new AddressGuard();
      for (const name of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254']) {
        const { error } = await resolve(guard, name);
        expect([name, error?.code, error?.message]).toEqual([name, 'EADDRREFUSED', `${name} resolves to an address the address guard refuses`]);
      }
    });

    it('lets a listed CIDR with a port through: the resolver is not told the port, the URL was checked for it', async () => {
      const guard = new AddressGuard(['169.254.10.0/24:3000']);
      expect(await resolve(guard, '169.254.10.9')).toEqual({ error: null, address: '169.254.10.9', family: 4 });
      expect((await resolve(guard, '169.254.11.9')).error?.code).toBe('EADDRREFUSED');
    });

    it('answers with every accepted address when the caller asks for all (as Node does for autoSelectFamily)', async () => {
      const guard = new AddressGuard();
      expect(await resolve(guard, '127.0.0.1', true)).toEqual({ error: null, address: [{ address: '127.0.0.1', family: 4 }], family: undefined });
      expect(await resolve(guard, '::1', false)).toEqual({ error: null, address: '::1', family: 6 });
    });

    it("passes the resolver's own error through for a name that does not resolve", async () => {
      // a label of 64 characters (RFC 1035 allows 63): refused by the resolver without a query
      const name = `${'x'.repeat(64)}.invalid`;
      const expected = await new Promise<NodeJS.ErrnoException | null>((ok) => dnsLookup(name, { all: true }, (error) => ok(error)));
      expect(expected).not.toBeNull();
      const { error } = await resolve(new AddressGuard(), name);
      expect(error?.code).toBe(expected?.code);
      expect(error?.code).not.toBe('EADDRREFUSED');
    });
  });
});
