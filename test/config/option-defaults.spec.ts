import { readFileSync } from 'node:fs';
import { OPTION_DEFAULTS, resolveClusterConfig } from '../../lib/clustershazbot.config.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../lib/core/engine-settings.js';

/** `@default` of each option in the options' JSDoc, as written. */
function documentedDefaults(): Map<string, string> {
  const text = readFileSync(new URL('../../lib/clustershazbot.options.ts', import.meta.url), 'utf8');
  const body = text.slice(text.indexOf('export interface ClustershazbotOptions'), text.indexOf('export interface ClustershazbotModuleExtras'));
  const out = new Map<string, string>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\?:/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const d = /@default\s+([^\n*]+?)\s*(?:\*|\n|$)/.exec(m[1]);
    if (d) out.set(m[2], d[1].trim());
  }
  return out;
}

describe('option defaults are written once', () => {
  const documented = documentedDefaults();

  it('every documented @default equals the default the module applies', () => {
    expect(documented.size).toBeGreaterThan(20);
    for (const [option, text] of documented) {
      if (text.startsWith('profile')) continue; // per failure-detection profile: see DETECTOR_PROFILES
      expect(OPTION_DEFAULTS).toHaveProperty(option);
      const value = OPTION_DEFAULTS[option as keyof typeof OPTION_DEFAULTS];
      expect([option, text]).toEqual([option, typeof value === 'string' ? `'${value}'` : String(value)]);
    }
  });

  it('every default the module applies is documented', () => {
    for (const option of Object.keys(OPTION_DEFAULTS)) expect([option, documented.has(option)]).toEqual([option, true]);
  });

  it('the resolved configuration carries them, and the core gets its own defaults', () => {
    const config = resolveClusterConfig({ secret: 's', controlSecret: 'c', baseUrl: 'http://127.0.0.1:1/', masterListUrl: 'file:///tmp/none.json', useEnvironment: false }, () => undefined, 'clustershazbot');
    expect(config.gossipIntervalMs).toBe(OPTION_DEFAULTS.gossipIntervalSeconds * 1000);
    expect(config.maxClockSkewMs).toBe(DEFAULT_ENGINE_SETTINGS.maxClockSkewMs);
    expect(config.retentionMs).toBe(DEFAULT_ENGINE_SETTINGS.retentionMs);
    expect(config.messageBudgetBytes).toBe(DEFAULT_ENGINE_SETTINGS.messageBudgetBytes);
    expect(DEFAULT_ENGINE_SETTINGS.stateLimits).toMatchObject(config.stateLimits);
    expect(config.monitorPreference).toBe(DEFAULT_ENGINE_SETTINGS.monitorPreference);
    expect(config.offlineProbeProbability).toBe(DEFAULT_ENGINE_SETTINGS.offlineProbeProbability);
    expect(config.detector).toMatchObject({ probeIntervalMs: DEFAULT_ENGINE_SETTINGS.probeIntervalMs, probeTimeoutMs: DEFAULT_ENGINE_SETTINGS.probeTimeoutMs, fastFailOnRefusal: true });
  });
});
