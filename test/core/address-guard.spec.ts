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
});
