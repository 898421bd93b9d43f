/**
 * The dashboard as an operator sees it, for the dashboard test and `npm run bench:dashboard`:
 * the built CLI's `dashboard` command as a real process, and Debian's Chromium (headless,
 * driven by playwright-core) showing its page. Every process and directory made here is
 * removed by the `close`/`stop` it returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** As root, on a machine without outside network: no sandbox, no GPU, none of Chromium's own background connections. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The package root, whether this file runs as TS (tests) or as built JS (bench). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** Chromium with a fresh profile; `close` quits it and removes the profile. @throws when Chromium is not installed */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium; .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'clustershazbot-chromium-'));
  try {
    // the fresh profile becomes Chromium's --user-data-dir (playwright refuses that flag in args)
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

export interface DashboardProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  /** SIGINT, then waits for the exit; resolves to the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/** Starts `clustershazbot dashboard <entry> --port 0 …` from dist/ and waits for the URL it prints. */
export async function startDashboard(entry: string, env: Record<string, string>, extraArgs: string[] = [], timeoutMs = 30_000): Promise<DashboardProcess> {
  const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'cli.js'), 'dashboard', entry, '--port', '0', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dashboard printed no URL within ${timeoutMs} ms: ${output.join('')}`)), timeoutMs);
    const read = (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited with code ${code}: ${output.join('')}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, child, output, stop };
}

/**
 * The failure detector's stated bound for a killed process (README, Failure detection): offline
 * on every live server within 2 + ceil(log2 N) probe intervals. Milliseconds.
 */
export function killedProcessBoundMs(clusterSize: number, probeIntervalSeconds: number): number {
  return (2 + Math.ceil(Math.log2(clusterSize))) * probeIntervalSeconds * 1000;
}

/** The status the page's members table shows for one member (`data-status`), or undefined. */
export async function shownStatus(page: Page, address: string): Promise<string | undefined> {
  const row = page.locator(`#members tr[data-member="${address}"]`);
  if ((await row.count()) === 0) return undefined;
  return (await row.first().getAttribute('data-status', { timeout: 2000 })) ?? undefined;
}

/**
 * Polls the page every 20 ms until it shows `address` as `status`; resolves to the ms since
 * `since`. @throws after `timeoutMs`, with the last status shown
 */
export async function whenShown(page: Page, address: string, status: string, since: number, timeoutMs: number): Promise<number> {
  let last: string | undefined;
  while (Date.now() - since < timeoutMs) {
    last = await shownStatus(page, address);
    if (last === status) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the page did not show ${address} ${status} within ${timeoutMs} ms (last shown: ${last ?? 'no row'})`);
}
