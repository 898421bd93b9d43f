/**
 * What the benchmarks read about a process from Linux's /proc, and where they pin it:
 * CPU time (every thread's user + system time, so GC and libuv threads count), resident
 * memory, and the cores it may run on (sched_setaffinity through `taskset`).
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's times (almost always 100). */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds the process has used so far: utime + stime of all its threads (10 ms resolution). */
export function cpuSeconds(pid: number): number {
  // the command name may hold spaces and parentheses: the fields start after the last ") "
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident memory of the process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) * 1024 : Number.NaN;
}

/** The machine's cores (not availableParallelism(), which counts only those this process is pinned to). */
export const coreCount = cpus().length;

/** Whether processes can be pinned to cores here: two cores or more, and `taskset` works. */
export const canPin = coreCount >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Moves a running process, all its threads, onto `cores` (e.g. "0"). Throws when taskset fails. */
export function pin(pid: number, cores: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset could not pin ${pid} to core ${cores}: ${result.stderr.trim()}`);
}

/** The load averages as `uptime` prints them (1, 5 and 15 minutes). */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Seconds a core has spent so far: busy (user, nice, system, irq, softirq) and stolen by the
 * hypervisor (steal), from /proc/stat. Busy time beyond the pinned process's own is other work
 * on that core: the noise the benchmark reports next to its figures.
 */
export function coreSeconds(core: number): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${core} `));
  if (!line) throw new Error(`no cpu${core} line in /proc/stat`);
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND };
}
