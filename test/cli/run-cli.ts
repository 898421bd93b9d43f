import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The built command, as `npx clustershazbot` runs it (package.json "bin"). */
export const CLI = join(process.cwd(), 'dist', 'cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a real process with exactly these SHAZBOT_* variables (none inherited
 * from the test's environment) and resolves when it exits. @throws when it runs past `timeoutMs`
 */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`clustershazbot ${args.join(' ')} still running after ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the built CLI as a real process (for commands that run until stopped, like watch). */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHAZBOT_')));
  return spawn(process.execPath, [CLI, ...args], { env: { ...inherited, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A table printed by `members`, as objects keyed by its headers. */
export function parseTable(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  // columns start where the header's names start (names are separated by two spaces or more)
  const starts = [...header.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => m.index! + m[0].length - 1);
  const names = starts.map((s, i) => header.slice(s, starts[i + 1]).trim());
  return lines.map((line) => Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1]).trim()])));
}
