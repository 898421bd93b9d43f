/**
 * The configuration's error messages read naturally and name what is accepted: a true/false
 * variable lists every word the parser takes, a range without an upper bound reads "at least";
 * each names its variable and option, and several problems come in one error.
 */
import { BOOLEAN_WORDS, ENVIRONMENT_VARIABLES, resolveClusterConfig } from '../../lib/clustershazbot.config.js';
import { ClustershazbotConfigError } from '../../lib/clustershazbot.errors.js';

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
    expect(resolve({ SHAZBOT_MONITOR: 'maybe' }).error).toBe('clustershazbot: SHAZBOT_MONITOR must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe" (option monitor)');
    for (const word of BOOLEAN_WORDS.true) {
      expect([word, resolve({ SHAZBOT_MONITOR: word }).monitor]).toEqual([word, true]);
      expect([word.toUpperCase(), resolve({ SHAZBOT_MONITOR: word.toUpperCase() }).monitor]).toEqual([word.toUpperCase(), true]);
    }
    for (const word of BOOLEAN_WORDS.false) expect([word, resolve({ SHAZBOT_MONITOR: word }).monitor]).toEqual([word, false]);
  });

  it('a range with no upper bound reads "at least"; a bounded one "from … to …"', () => {
    expect(resolve({ SHAZBOT_GOSSIP_INTERVAL: 'soon' }).error).toBe('clustershazbot: SHAZBOT_GOSSIP_INTERVAL must be a number of at least 0.01, got "soon" (option gossipIntervalSeconds)');
    expect(resolve({ SHAZBOT_MASTER_ANNOUNCE_MINIMUM: '-1' }).error).toBe('clustershazbot: SHAZBOT_MASTER_ANNOUNCE_MINIMUM must be a number of at least 0, got "-1" (option masterAnnounceMinimumSeconds)');
    expect(resolve({ SHAZBOT_SIGNATURE_WINDOW: '0' }).error).toBe('clustershazbot: SHAZBOT_SIGNATURE_WINDOW must be a number from 1 to 86400, got "0" (option signatureWindowSeconds)');
    expect(resolve({ SHAZBOT_MAX_STATE_KEYS: '2.5' }).error).toMatch(/^clustershazbot: SHAZBOT_MAX_STATE_KEYS must be a whole number from 1 to \d+, got "2\.5" \(option maxStateKeys\)$/);
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

  it('several problems at once: one error lists every one, each naming its variable and option, never a secret', () => {
    const env: Record<string, string> = {
      SHAZBOT_CONTROL_SECRET: 'control-secret',
      SHAZBOT_SECRET: 'control-secret,gossip-secret',
      SHAZBOT_BASE_URL: '10.0.0.5:3000',
      SHAZBOT_GOSSIP_INTERVAL: 'soon',
      SHAZBOT_MONITOR: 'maybe',
      SHAZBOT_MASTER_LIST_UPDATE: 'https://lists.example/up?token=abc',
    };
    let message = '';
    try {
      resolveClusterConfig({ pushFanout: 1.5 }, (name) => env[name], 'clustershazbot');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'clustershazbot: 7 configuration problems, fix them all:',
      '  - SHAZBOT_CONTROL_SECRET must differ from every SHAZBOT_SECRET (value not shown) (option controlSecret)',
      '  - SHAZBOT_BASE_URL is not a usable base URL: invalid base URL: not an absolute URL; it needs a scheme, host and port as peers reach this server, e.g. http://10.0.0.5:3000/ (option baseUrl)',
      '  - SHAZBOT_MASTER_LIST is not set (set the environment variable or pass the option "masterListUrl")',
      '  - SHAZBOT_MASTER_LIST_UPDATE_AUTH is not set but SHAZBOT_MASTER_LIST_UPDATE is an http(s) URL (option masterListUpdateAuth)',
      '  - SHAZBOT_GOSSIP_INTERVAL must be a number of at least 0.01, got "soon" (option gossipIntervalSeconds)',
      '  - SHAZBOT_MONITOR must be one of true/false, 1/0, yes/no, on/off (any case), got "maybe" (option monitor)',
      '  - option pushFanout must be a whole number from 0 to 16, got "1.5"',
    ]);
    for (const secret of ['control-secret', 'gossip-secret', 'token=abc']) expect(message).not.toContain(secret);
  });

  it('nothing set: every required variable in one error, the missing secrets first', () => {
    let error: unknown;
    try {
      resolveClusterConfig({}, () => undefined, 'clustershazbot');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ClustershazbotConfigError);
    expect((error as Error).message).toBe(
      [
        'clustershazbot: 4 configuration problems, fix them all:',
        '  - SHAZBOT_SECRET is not set (set the environment variable or pass the option "secret")',
        '  - SHAZBOT_CONTROL_SECRET is not set (set the environment variable or pass the option "controlSecret")',
        '  - SHAZBOT_BASE_URL is not set (set the environment variable or pass the option "baseUrl")',
        '  - SHAZBOT_MASTER_LIST is not set (set the environment variable or pass the option "masterListUrl")',
      ].join('\n'),
    );
    // the message is all a user needs: no stack frames into the library under it
    expect((error as Error).stack).toBe(`ClustershazbotConfigError: ${(error as Error).message}`);
  });

  it('one problem keeps its one-line message', () => {
    expect(resolve({ SHAZBOT_BASE_URL: 'http//10.0.0.5:3000' }).error).toBe(
      'clustershazbot: SHAZBOT_BASE_URL is not a usable base URL: invalid base URL: not an absolute URL; it needs a scheme, host and port as peers reach this server, e.g. http://10.0.0.5:3000/ (option baseUrl)',
    );
  });
});
