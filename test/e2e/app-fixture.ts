import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, jest } from '@jest/globals';
import { Controller, Get, Logger, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterHealthIndicator, type ClustershazbotOptions } from '../../lib/index.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export const SECRET = 'gossip-secret-one';
export const ROTATED_SECRET = 'gossip-secret-two';
export const CONTROL_SECRET = 'control-secret';
export const SELF = 'http://127.0.0.1:9/';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cluster: ClusterHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.cluster.isHealthy()]);
  }
}

/** The folders masterListFile() made in this test file: removed after its last test, failed or not. */
const madeDirs: string[] = [];
afterAll(() => {
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A master list file holding `seeds`, as a file:// URL; its folder is removed after the test file. */
export function masterListFile(seeds: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-e2e-'));
  madeDirs.push(dir);
  const path = join(dir, 'master.json');
  writeFileSync(path, JSON.stringify({ online: seeds.map((baseUrl) => ({ baseUrl, monitor: false, lastUpdate: 0 })), offline: [] }));
  return pathToFileURL(path).toString();
}

export function baseOptions(overrides: ClustershazbotOptions = {}): ClustershazbotOptions {
  return {
    secret: [SECRET, ROTATED_SECRET],
    controlSecret: CONTROL_SECRET,
    baseUrl: SELF,
    masterListUrl: overrides.masterListUrl ?? masterListFile(), // no temporary file when the test brings its own list
    gossipIntervalSeconds: 3600, // rounds stay out of the way of request assertions
    requestTimeoutSeconds: 0.5,
    shutdownTimeoutSeconds: 0.5,
    useEnvironment: false,
    failureDetection: 'off', // these fixtures inject made-up peers: nothing may probe them
    ...overrides,
  };
}

/** A real Nest app with Terminus and the cluster module, listening on an ephemeral loopback port. */
export async function createApp(
  platform: Platform,
  clusterModule: DynamicModule,
  extraImports: (DynamicModule | Promise<DynamicModule>)[] = [],
  { rawBody = false }: { rawBody?: boolean } = {},
): Promise<INestApplication> {
  @Module({ imports: [clusterModule, TerminusModule, ...extraImports], controllers: [HealthController] })
  class FixtureModule {}

  const moduleRef = await Test.createTestingModule({ imports: [FixtureModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ bodyLimit: 4 * 1024 * 1024 }), { logger: false, rawBody })
      : moduleRef.createNestApplication({ logger: false, bodyParser: true, rawBody });
  if (platform === 'express') (app as unknown as { useBodyParser(t: string, o: object): void }).useBodyParser('json', { limit: '4mb' });
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
export const entry = (baseUrl: string, lastUpdate = Date.now()) => ({ baseUrl, monitor: false, lastUpdate });

/**
 * Captures what the library logs through Nest's Logger in this test file, as `"<level>: <message>"`
 * lines (levels log, warn, error): installed before the file's tests, emptied before each test
 * (so a test sees only its own lines, not the previous test's shutdown), removed after the file. Call it once at the top level of a test file.
 */
export function captureLogs(): string[] {
  const lines: string[] = [];
  beforeAll(() => {
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(`${level}: ${String(message)}`));
    }
  });
  beforeEach(() => void lines.splice(0));
  afterAll(() => void jest.restoreAllMocks());
  return lines;
}
