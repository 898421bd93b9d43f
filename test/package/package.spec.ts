/** The package as published: the manifest is coherent and the packed tarball installs and imports in a fresh app. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { linkedFiles } from '../support/markdown.js';

const root = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

describe('package manifest', () => {
  it('is ESM with types and default in its exports map', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
  });

  it('declares every package the built library imports as a peer or dependency', () => {
    const declared = new Set([...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.dependencies ?? {})]);
    const imported = new Set<string>();
    for (const file of filesUnder(join(root, 'dist')).filter((f) => f.endsWith('.js'))) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from ['"]([^'"]+)['"]/g)) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
    expect([...imported].filter((p) => !declared.has(p))).toEqual([]);
    for (const nest of [...imported].filter((p) => p.startsWith('@nestjs/'))) expect(manifest.peerDependencies[nest]).toBeDefined();
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it("declares the Node range of Nest 12's own packages (where require() loads ES modules unflagged)", () => {
    const nodeRange = (name: string) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).engines?.node;
    expect(manifest.engines.node).toBe('^20.19.0 || ^22.12.0 || >=24.0.0');
    expect(nodeRange('@nestjs/terminus')).toBe(manifest.engines.node);
    expect(nodeRange('@nestjs/axios')).toBe(manifest.engines.node);
  });
});

describe('packed tarball', () => {
  const work = mkdtempSync(join(tmpdir(), 'shazbot-pack-'));
  const app = join(work, 'app');
  let files: string[] = [];

  beforeAll(() => {
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
    files = execFileSync('tar', ['-tzf', join(work, packed)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
    // peers come with it (npm installs peer dependencies); the cache filled by `npm ci` serves them
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, packed)], { cwd: app, stdio: 'pipe', timeout: 240_000 });
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the LICENSE, SECURITY.md, the README and every file the README links, transitively', () => {
    const { markdown, others } = linkedFiles(join(root, 'README.md'), root);
    const linked = [...markdown, ...others].map((f) => relative(root, f));
    expect(linked).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'SECURITY.md']));
    expect(linked.filter((f) => !files.includes(f))).toEqual([]);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 clustershazbot contributors\n/);
  });

  it('installs into a fresh app and its named exports import in plain Node', () => {
    const script = `
      import 'reflect-metadata';
      import * as lib from 'clustershazbot';
      const names = ['ClustershazbotModule','ClusterService','ClusterHealthIndicator','GossipMessageDto','ControlMessageDto','ServerListDto','GossipServerDto',
        'shazbotStart','shazbotShutDown','shazbotGossipRequest','shazbotListRequest','shazbotControlRequest','shazbotProbeRequest','shazbotHealthExtension','signRequest',
        'clustershazbotRouter'];
      const missing = names.filter((n) => typeof lib[n] !== 'function');
      const mod = lib.ClustershazbotModule.forRoot({});
      console.log(JSON.stringify({ missing, module: mod.module.name, controllers: mod.controllers.length }));
    `;
    writeFileSync(join(app, 'check.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' }).trim());
    expect(out).toEqual({ missing: [], module: 'ClustershazbotModule', controllers: 1 });
    // the operators' command is installed and signs with the secret from the environment
    const header = execFileSync(join(app, 'node_modules/.bin/clustershazbot'), ['sign', 'GET', '/clustershazbot/list', '--url', 'http://127.0.0.1:3000/'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, SHAZBOT_SECRET: 'package-test-secret' },
    });
    expect(header).toMatch(/^Shazbot-HMAC-SHA256 cluster=default, ts=\d+, nonce=[A-Za-z0-9_-]{22}, sig=[A-Za-z0-9_-]{43}\n$/);
    const typesFile = join(app, 'node_modules/clustershazbot/dist/index.d.ts');
    expect(readFileSync(typesFile, 'utf8')).toContain('ClustershazbotModule');
  });

  it('loads in a CommonJS app with require() (Node 20.19+ loads ES modules with require)', () => {
    const script = `
      require('reflect-metadata');
      const { ClustershazbotModule, clustershazbotRouter, signRequest } = require('clustershazbot');
      const mod = ClustershazbotModule.forRoot({});
      console.log(JSON.stringify({ module: mod.module.name, router: typeof clustershazbotRouter(), sign: typeof signRequest }));
    `;
    writeFileSync(join(app, 'check.cjs'), script);
    const run = spawnSync(process.execPath, ['check.cjs'], { cwd: app, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual({ module: 'ClustershazbotModule', router: 'function', sign: 'function' });
  });
});
