/**
 * https:// peers with a test CA made at test time (openssl): mutual TLS works between
 * servers holding certificates from the CA; a server with a rogue client certificate is
 * refused, and one that does not trust the CA treats the certificate error as an error.
 */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterService, ClustershazbotModule } from '../../lib/index.js';
import { freePort } from '../../sample/local-cluster.js';
import { baseOptions } from './app-fixture.js';

jest.setTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), 'shazbot-tls-'));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function makeCa(name: string): void {
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

function makeCert(name: string, ca: string, san: string): void {
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

const file = (name: string) => readFileSync(join(dir, name));

describe('TLS and mutual TLS between servers', () => {
  const apps: INestApplication[] = [];

  beforeAll(() => {
    makeCa('ca');
    makeCa('rogue-ca');
    makeCert('server', 'ca', 'IP:127.0.0.1');
    makeCert('client', 'ca', 'DNS:client');
    makeCert('rogue-client', 'rogue-ca', 'DNS:rogue');
  });

  afterAll(async () => {
    try {
      for (const app of apps) await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function start(port: number, seed: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<INestApplication> {
    const masterList = join(dir, `master-${port}.json`);
    writeFileSync(masterList, JSON.stringify({ online: [{ baseUrl: seed, monitor: false, lastUpdate: 0 }] }));
    @Module({
      imports: [
        ClustershazbotModule.forRoot(
          baseOptions({
            baseUrl: `https://127.0.0.1:${port}/`,
            masterListUrl: pathToFileURL(masterList).toString(),
            gossipIntervalSeconds: 0.3,
            failureDetection: 'local',
            tls,
          }),
        ),
      ],
    })
    class TlsAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TlsAppModule] }).compile();
    const app = moduleRef.createNestApplication({
      logger: false,
      // the server side of mTLS is the host's HTTPS server: it asks for and checks client certificates
      httpsOptions: { key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: true },
    });
    await app.listen(port, '127.0.0.1');
    apps.push(app);
    return app;
  }

  const sees = (app: INestApplication, port: number) => app.get(ClusterService).view().online.some((e) => e.baseUrl === `https://127.0.0.1:${port}/`);
  async function eventually(check: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return check();
  }

  it('servers with certificates from the cluster CA form a cluster over mutual TLS; others never get in', async () => {
    const [pa, pb, pc, pd] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const seed = `https://127.0.0.1:${pa}/`;
    const member = { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') };
    const a = await start(pa, seed, member);
    const b = await start(pb, seed, member);
    expect(await eventually(() => sees(a, pb) && sees(b, pa), 20_000)).toBe(true);

    // a client certificate from another CA: A's TLS server refuses the handshake
    const rogue = await start(pc, seed, { ca: file('ca.crt'), cert: file('rogue-client.crt'), key: file('rogue-client.key') });
    // trusts only the rogue CA: A's certificate fails verification, which is an error, never ignored
    const distrustful = await start(pd, seed, { ca: file('rogue-ca.crt'), cert: file('client.crt'), key: file('client.key') });
    await new Promise((r) => setTimeout(r, 4000));
    expect(sees(rogue, pa)).toBe(false);
    expect(sees(distrustful, pa)).toBe(false);
    expect(sees(a, pc)).toBe(false);
    expect(sees(a, pd)).toBe(false);
    expect(rogue.get(ClusterService).status().stats.exchangesFailed + rogue.get(ClusterService).status().stats.probesFailed).toBeGreaterThan(0);
  });
});
