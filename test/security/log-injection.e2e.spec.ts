/**
 * Log injection (issue 18, item 7): text from the network reaches the shell's log lines only
 * escaped or quoted, so nobody can write a line of their own (a forged audit line) into a
 * server's log. Real Nest apps on Express and Fastify, and the plain-function API.
 */
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { ClusterService, ClustershazbotModule, shazbotControlRequest, shazbotShutDown, shazbotStart } from '../../lib/index.js';
import { messages } from '../../lib/clustershazbot.messages.js';
import { escapeForLog, quoteForLog } from '../../lib/core/log-text.js';
import { auth } from '../support/signed.js';
import { baseOptions, CONTROL_SECRET, createApp, PLATFORMS } from '../e2e/app-fixture.js';

const FORGED = 'x\ncontrol from 10.9.9.9: set offline';

/** Every message given to Nest's Logger (any context) while `run` runs. */
async function logged(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spies = (['log', 'warn', 'error', 'debug'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(String(message))));
  try {
    await run();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return lines;
}

describe('log text', () => {
  it('escapes controls, format characters, separators and lone surrogates; quotes; bounds the length', () => {
    expect(escapeForLog('plain text: HTTP 500')).toBe('plain text: HTTP 500');
    expect(escapeForLog(FORGED)).toBe('x\\u000acontrol from 10.9.9.9: set offline');
    expect(escapeForLog('a\u001b[2Jb\u202Ec\u2028d\ud800')).toBe('a\\u001b[2Jb\\u202ec\\u2028d\\ud800');
    expect(quoteForLog('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(quoteForLog('x'.repeat(500))).toBe(`"${'x'.repeat(200)}…"`);
  });
});

describe('the control audit line from the plain-function API', () => {
  afterEach(() => shazbotShutDown());

  it('quotes the sender the host passes (an X-Forwarded-For value, say): one line, no forged one', async () => {
    await shazbotStart(baseOptions(), ['log']);
    const body = { message: 'control' as const, online: true };
    const lines = await logged(() => shazbotControlRequest(auth(CONTROL_SECRET, 'POST', '/clustershazbot/control', body).authorization, body, FORGED));
    const audit = lines.filter((l) => l.startsWith('control from'));
    expect(audit).toEqual(['control from "x\\u000acontrol from 10.9.9.9: set offline": set online']);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });
});

describe('master-list messages', () => {
  it('escape the reason they give, whatever a store puts in its error', () => {
    // the built-in store's reasons are codes, statuses and validation paths; a custom store's may be anything
    const line = messages.masterListStoreUnavailable(`not a valid server list: ${FORGED}`, 2);
    expect(line).toBe('master list from the masterListStore option unavailable (not a valid server list: x\\u000acontrol from 10.9.9.9: set offline): its load() must resolve a list; starting from what is known, retrying in 2.0 s');
    const upload = messages.masterListStoreUploadFailed(FORGED);
    expect(upload).toBe('master list upload to the masterListStore option failed (x\\u000acontrol from 10.9.9.9: set offline): its save() rejected; the list keeps its last upload until the next announce');
    expect(messages.masterListUploadFailed('https://lists.internal/cluster.json', FORGED, 'SHAZBOT_MASTER_LIST_UPDATE')).not.toContain('\n');
  });
});

describe.each(PLATFORMS)('the engine\'s refusal of a delta on %s', (platform) => {
  let app: INestApplication;
  afterEach(() => app.close());

  it('names the key quoted, in one line', async () => {
    app = await createApp(platform, ClustershazbotModule.forRoot(baseOptions()));
    const now = Date.now();
    const key = 'a "quoted" key';
    const lines = await logged(async () => {
      app.get(ClusterService).receiveSync({
        message: 'sync',
        members: { online: [{ baseUrl: 'http://127.0.0.2:1/', monitor: false, lastUpdate: now }], offline: [] },
        state: [{ server: 'http://127.0.0.2:1/', from: 0, to: now, entries: [{ key, version: now + 1, value: 1 }] }],
      });
    });
    expect(lines.filter((l) => l.startsWith('refused key/value state'))).toEqual([expect.stringContaining('key "a \\"quoted\\" key": version outside the delta')]);
  });
});
