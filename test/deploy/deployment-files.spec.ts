/**
 * deploy/: the Kubernetes manifests and the Dockerfile agree with the module and the sample app.
 * Every variable they set is one something reads; the values pass the module's own
 * configuration checks; ports, probe and scrape paths match the sample's routes; selectors
 * match; secrets come from a Secret. (No container engine runs here: the image is not built.)
 */
import 'reflect-metadata';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENVIRONMENT_VARIABLES, resolveClusterConfig } from '../../lib/index.js';
import { TLS_FILE_VARIABLES } from '../../lib/clustershazbot.config.js';
import { HealthController } from '../../sample/app.module.js';
import { SAMPLE_VARIABLES } from '../../sample/listen-address.js';
import { MetricsController } from '../../sample/metrics.controller.js';

const root = resolve(import.meta.dirname, '../..');
const k8s = join(root, 'deploy/kubernetes');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  readinessProbe: { httpGet: { path: string; port: string | number } };
  livenessProbe: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
}
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any; stringData?: Record<string, string> };

function load(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(join(k8s, file), 'utf8'));
  for (const d of documents) expect(d.errors).toEqual([]);
  return documents.map((d) => d.toJS() as Manifest);
}

const kustomization = load('kustomization.yaml')[0] as unknown as { resources: string[] };
const manifests = kustomization.resources.flatMap(load);
const [secret] = load('secret.example.yaml');
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployment = byKind('Deployment')[0];
const container = deployment.spec.template.spec.containers[0] as Container;
const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
const services = byKind('Service');
const headless = services.find((s) => s.spec.clusterIP === 'None')!;
const traffic = services.find((s) => s.spec.clusterIP !== 'None')!;
const envValue = (name: string) => container.env.find((e) => e.name === name)?.value;
const routeOf = (controller: Function, method: string) => `/${String(Reflect.getMetadata(PATH_METADATA, controller.prototype[method])).replace(/^\/+/, '')}`;
const dockerfile = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Kubernetes manifests', () => {
  it('hold the expected objects, each file listed by the kustomization', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service', 'Service']);
    const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect(kustomization.resources.sort()).toEqual(files.sort());
    expect(secret.kind).toBe('Secret');
  });

  it('set only variables something reads: the module, the sample app, or a $(reference) from the downward API', () => {
    const module = new Set<string>([...Object.values(ENVIRONMENT_VARIABLES), ...Object.values(TLS_FILE_VARIABLES)]);
    const sample = new Set<string>(SAMPLE_VARIABLES);
    const referenced = new Set(container.env.flatMap((e) => [...(e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1])));
    for (const variable of container.env) {
      const known = module.has(variable.name) || sample.has(variable.name) || (referenced.has(variable.name) && variable.valueFrom?.fieldRef !== undefined);
      expect({ variable: variable.name, known }).toEqual({ variable: variable.name, known: true });
    }
    // and every $(reference) is defined before it is used, as Kubernetes requires
    container.env.forEach((e, i) => {
      for (const [, ref] of (e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)) expect(container.env.slice(0, i).map((x) => x.name)).toContain(ref);
    });
  });

  it('give values the module accepts, with the secrets from the Secret', () => {
    const pod = { POD_IP: '10.244.1.7', POD_NAMESPACE: 'default' } as Record<string, string>;
    const env: Record<string, string> = {};
    for (const e of container.env) {
      if (e.valueFrom?.secretKeyRef) {
        expect(e.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
        env[e.name] = secret.stringData![e.valueFrom.secretKeyRef.key];
        expect(env[e.name]).toBeDefined();
      } else if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => env[name] ?? pod[name]);
      else env[e.name] = pod[e.name];
    }
    expect(container.env.filter((e) => e.value !== undefined && /SECRET/.test(e.name))).toEqual([]); // never literal
    const config = resolveClusterConfig({}, (name) => env[name], 'clustershazbot');
    expect(config.baseUrl).toBe('http://10.244.1.7:3000/');
    expect(config.discovery).toEqual({ kind: 'a', name: `${headless.metadata.name}.default.svc.cluster.local`, port: 3000, scheme: 'http' });
    expect(config.metrics).toBe(true);
    expect(env.SHAZBOT_BASE_URL).toMatch(/^http:\/\/10\.244\.1\.7:/); // from the downward API's pod IP
    expect(container.env.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
  });

  it('agree on ports: the container, its base URL, the DNS seeds, the Services and the image', () => {
    const http = container.ports.find((p) => p.name === 'http')!;
    const basePort = Number(new URL(envValue('SHAZBOT_BASE_URL')!.replace('$(POD_IP)', '10.0.0.1')).port);
    const dnsPort = Number(/:(\d+)$/.exec(envValue('SHAZBOT_MASTER_LIST')!)![1]);
    const exposed = Number(/^EXPOSE (\d+)/m.exec(instructions.join('\n'))![1]);
    const listen = Number(/LISTEN_PORT=(\d+)/.exec(dockerfile)![1]);
    expect([basePort, dnsPort, exposed, listen]).toEqual([http.containerPort, http.containerPort, http.containerPort, http.containerPort]);
    expect(headless.spec.ports[0]).toMatchObject({ port: dnsPort, targetPort: 'http' });
    expect(traffic.spec.ports[0].targetPort).toBe('http');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe!]) expect(probe.httpGet.port).toBe('http');
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(http.containerPort));
  });

  it('agree on paths with the sample app: probes on its Terminus routes (readiness on the ready one), scrapes on its metrics route', () => {
    const health = routeOf(HealthController, 'check');
    expect(health).toBe('/health');
    expect(routeOf(HealthController, 'ready')).toBe('/health/ready');
    expect(container.readinessProbe.httpGet.path).toBe(routeOf(HealthController, 'ready'));
    expect(container.livenessProbe.httpGet.path).toBe(health);
    expect(container.startupProbe!.httpGet.path).toBe(health);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe(routeOf(MetricsController, 'metrics'));
  });

  it('find pods through a headless Service that publishes not-ready pods, and select the same pods everywhere', () => {
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(envValue('SHAZBOT_MASTER_LIST')).toBe(`dns://${headless.metadata.name}.$(POD_NAMESPACE).svc.cluster.local:3000`);
    expect(traffic.spec.publishNotReadyAddresses).toBeUndefined(); // traffic goes to ready pods only
    const pdb = byKind('PodDisruptionBudget')[0];
    for (const selector of [deployment.spec.selector.matchLabels, headless.spec.selector, traffic.spec.selector, pdb.spec.selector.matchLabels]) {
      expect(Object.entries(selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
    }
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.image).toMatch(/^clustershazbot-sample:/);
  });
});

describe('Dockerfile', () => {
  const stages = instructions.reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [line]] : (all[all.length - 1]?.push(line), all)), []);

  it('builds in one stage from the lock file and runs in another as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const [build, runtime] = [stages[0], stages[stages.length - 1]];
    const copyLock = build.findIndex((l) => /^COPY package\.json package-lock\.json /.test(l));
    const ci = build.findIndex((l) => /^RUN npm ci\b/.test(l));
    expect(copyLock).toBeGreaterThan(0);
    expect(ci).toBeGreaterThan(copyLock);
    expect(instructions.filter((l) => /npm (install|i) /.test(l))).toEqual([]);
    const user = runtime.filter((l) => l.startsWith('USER ')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(runtime.some((l) => /^RUN npm/.test(l))).toBe(false); // nothing is installed where it runs
  });

  it('runs the sample app, whose shutdown hooks are on, and stops it with SIGTERM', () => {
    const cmd = instructions.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', 'dist-sample/sample/main.js']);
    expect(readFileSync(join(root, 'sample/main.ts'), 'utf8')).toMatch(/^\s*app\.enableShutdownHooks\(\);/m);
    expect(instructions).toContain('STOPSIGNAL SIGTERM');
  });

  it('copies only what exists, and sets only variables something reads', () => {
    for (const line of instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect({ source, exists: existsSync(join(root, source)) }).toEqual({ source, exists: true });
    }
    const variables = instructions.filter((l) => l.startsWith('ENV ')).flatMap((l) => [...l.slice(4).matchAll(/([A-Z_]+)=/g)].map((m) => m[1]));
    // NODE_ENV is Node's convention, read by the libraries underneath
    const known = new Set<string>([...Object.values(ENVIRONMENT_VARIABLES), ...SAMPLE_VARIABLES, 'NODE_ENV']);
    expect(variables.filter((v) => !known.has(v))).toEqual([]);
    expect(variables).toEqual(expect.arrayContaining(['LISTEN_HOST', 'LISTEN_PORT']));
  });
});
