/**
 * `clustershazbot sign` in process: what it signs for a path with a query or a fragment (the
 * server verifies `/<prefix>/<endpoint>` alone, lib/security/request-signature.ts). The real
 * server accepting such a header is test/cli/cli.spec.ts's.
 */
import { jest } from '@jest/globals';
import { signCommand } from '../../lib/cli/commands/sign.command.js';
import { parseSignatureHeader, signRequest } from '../../lib/security/request-signature.js';

const TARGET = 'http://127.0.0.1:3000/';

async function sign(path: string): Promise<{ header: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    expect(await signCommand.run(['GET', path], { url: TARGET })).toBe(0);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { header: stdout.trim(), stderr };
}

/** The header a signer would write for `path` with the same stamp and nonce. */
function expectedFor(header: string, path: string): string {
  const { ts, nonce } = parseSignatureHeader(header)!;
  return signRequest('cli-test-secret', { method: 'GET', target: TARGET, path, cluster: 'default' }, ts, nonce);
}

describe('clustershazbot sign (in process)', () => {
  const saved = { secret: process.env.SHAZBOT_SECRET, cluster: process.env.SHAZBOT_CLUSTER };
  beforeAll(() => {
    process.env.SHAZBOT_SECRET = 'cli-test-secret';
    delete process.env.SHAZBOT_CLUSTER;
  });
  afterAll(() => {
    if (saved.secret === undefined) delete process.env.SHAZBOT_SECRET;
    else process.env.SHAZBOT_SECRET = saved.secret;
    if (saved.cluster !== undefined) process.env.SHAZBOT_CLUSTER = saved.cluster;
  });

  it('signs a path with a query for the path alone, and says so on stderr', async () => {
    const { header, stderr } = await sign('/clustershazbot/state?include=all');
    expect(header).toBe(expectedFor(header, '/clustershazbot/state'));
    expect(stderr).toContain('signed /clustershazbot/state; send the request with ?include=all as given');
    expect(stderr).not.toContain('cli-test-secret');
  });

  it('drops a fragment (never sent) without a note', async () => {
    const { header, stderr } = await sign('/clustershazbot/list#top');
    expect(header).toBe(expectedFor(header, '/clustershazbot/list'));
    expect(stderr).toBe('');
  });
});
