/**
 * The configuration's error messages read naturally and name what is accepted: a true/false
 * variable lists every word the parser takes, a range without an upper bound reads "at least".
 */
import { BOOLEAN_WORDS, ENVIRONMENT_VARIABLES, resolveClusterConfig } from '../../lib/clustershazbot.config.js';

const REQUIRED: Record<string, string> = {
  SHAZBOT_SECRET: 'gossip-secret',
  SHAZBOT_CONTROL_SECRET: 'control-secret',
  SHAZBOT_BASE_URL: 'http://127.0.0.1:3000/',
  SHAZBOT_MASTER_LIST: 'file:///tmp/none.json',
};

/** The configuration from these variables, or the message it throws. */
function resolve(variables: Record<string, string>): { monitor?: boolean; error?: string } {
  const env = { ...REQUIRED, ...variables };
  try {
    return { monitor: resolveClusterConfig({}, (name) => env[name], 'clustershazbot').monitor };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('configuration messages', () => {
  it('SHAZBOT_MONITOR: the message lists every accepted value, and each of them (any case) is accepted', () => {
    expect(resolve({ SHAZBOT_MONITOR: 'maybe' }).error).toBe('clustershazbot: SHAZBOT_MONITOR must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe"');
    for (const word of BOOLEAN_WORDS.true) {
      expect([word, resolve({ SHAZBOT_MONITOR: word }).monitor]).toEqual([word, true]);
      expect([word.toUpperCase(), resolve({ SHAZBOT_MONITOR: word.toUpperCase() }).monitor]).toEqual([word.toUpperCase(), true]);
    }
    for (const word of BOOLEAN_WORDS.false) expect([word, resolve({ SHAZBOT_MONITOR: word }).monitor]).toEqual([word, false]);
  });

  it('a range with no upper bound reads "at least"; a bounded one "from … to …"', () => {
    expect(resolve({ SHAZBOT_GOSSIP_INTERVAL: 'soon' }).error).toBe('clustershazbot: SHAZBOT_GOSSIP_INTERVAL must be a number of at least 0.01, got "soon"');
    expect(resolve({ SHAZBOT_MASTER_ANNOUNCE_MINIMUM: '-1' }).error).toBe('clustershazbot: SHAZBOT_MASTER_ANNOUNCE_MINIMUM must be a number of at least 0, got "-1"');
    expect(resolve({ SHAZBOT_SIGNATURE_WINDOW: '0' }).error).toBe('clustershazbot: SHAZBOT_SIGNATURE_WINDOW must be a number from 1 to 86400, got "0"');
    expect(resolve({ SHAZBOT_MAX_STATE_KEYS: '2.5' }).error).toMatch(/^clustershazbot: SHAZBOT_MAX_STATE_KEYS must be a whole number from 1 to \d+, got "2\.5"$/);
  });

  it('no variable, set to a bad value, gets a message with "to any"', () => {
    const checked: string[] = [];
    for (const variable of Object.values(ENVIRONMENT_VARIABLES)) {
      const { error } = resolve({ [variable]: '-7.5x' });
      if (error === undefined) continue;
      checked.push(variable);
      expect([variable, error]).toEqual([variable, expect.not.stringContaining('to any')]);
    }
    expect(checked).toEqual(expect.arrayContaining(['SHAZBOT_GOSSIP_INTERVAL', 'SHAZBOT_REQUEST_TIMEOUT', 'SHAZBOT_OFFLINE_RETENTION', 'SHAZBOT_MONITOR']));
  });
});
