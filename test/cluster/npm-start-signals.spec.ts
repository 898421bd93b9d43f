/**
 * `npm start` as a supervisor or `docker stop` runs it: one process, signalled by its pid alone
 * (not the process group, as a terminal's Ctrl-C would). SIGINT and SIGTERM must each reach the
 * demo and stop every process it started. Real processes; the process tree is read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

interface Proc {
  pid: number;
  /** Start time in clock ticks since boot: tells the process from a later one that reuses its pid. */
  start: string;
  command: string;
}

/** pid, parent pid, state and start time of a process, or undefined once it is gone. */
function stat(pid: number): { ppid: number; state: string; start: string } | undefined {
  try {
    // the command name is in parentheses and may hold spaces: the fields that follow it are fixed
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), start: fields[19] };
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it, with their command lines. */
function processTree(pid: number): Proc[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(entry)]);
  }
  const tree: Proc[] = [];
  const visit = (p: number) => {
    const s = stat(p);
    if (!s) return;
    let command = '';
    try {
      command = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      // exited meanwhile
    }
    tree.push({ pid: p, start: s.start, command });
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return tree;
}

/** Still running: present, not a zombie, and the same process (same start time). */
function alive(proc: Proc): boolean {
  const s = stat(proc.pid);
  return !!s && s.state !== 'Z' && s.start === proc.start;
}

async function until(what: string, check: () => boolean, timeoutMs: number, describeState: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${describeState()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.each<NodeJS.Signals>(['SIGINT', 'SIGTERM'])('npm start, then %s to its pid', (signal) => {
  let npm: ChildProcess | undefined;
  let tree: Proc[] = [];
  let output = '';

  afterEach(() => {
    // whatever the outcome, nothing this test started keeps running
    for (const proc of [...tree].reverse()) if (alive(proc)) process.kill(proc.pid, 'SIGKILL');
    if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    // the demo's folder is removed by its own shutdown; after a SIGKILL it is not: remove it here
    const folder = /master list: (\S+)\/master-list\.json/.exec(output)?.[1];
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it(`stops the demo and all five servers`, async () => {
    npm = spawn('npm', ['start'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((done) => npm!.once('exit', () => done()));
    const tail = () => `output so far:\n${output.slice(-2000)}`;

    // npm start builds the library and the sample first
    await until('the demo to converge', () => /converged: all 5 servers see 5 online/.test(output), 240_000, tail);
    tree = processTree(npm.pid!);
    const runs = (script: string) => (p: Proc) => p.command.split(' ').includes(script) && /(^|\/)node$/.test(p.command.split(' ')[0]);
    expect(tree.filter(runs(`${root}/dist-sample/sample/main.js`))).toHaveLength(5);
    expect(tree.filter(runs('dist-sample/sample/demo.js'))).toHaveLength(1);

    process.kill(npm.pid!, signal);
    await until('npm to exit', () => npm!.exitCode !== null || npm!.signalCode !== null, 30_000, tail);
    await exited;
    await until(
      'every process of the demo to exit',
      () => tree.every((p) => !alive(p)),
      15_000,
      () => `still running: ${tree.filter(alive).map((p) => `${p.pid} ${p.command}`).join('; ')}`,
    );
    // each server shut down through its own hooks (offline, peers told): none had to be killed
    const stopped = /all servers stopped\. \((.*)\)/.exec(output)?.[1];
    expect(stopped?.split(', ')).toEqual([1, 2, 3, 4, 5].map((i) => `server-${i} ${signal}`));
  }, 300_000);
});
