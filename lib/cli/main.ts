import { parseArgs } from 'node:util';
import type { CliCommand } from './cli-command.js';
import { UsageError } from './cli-errors.js';
import { controlCommand } from './commands/control.command.js';
import { listCommand } from './commands/list.command.js';
import { signCommand } from './commands/sign.command.js';
import { stateCommand } from './commands/state.command.js';

const COMMANDS: CliCommand[] = [controlCommand, listCommand, stateCommand, signCommand];

const USAGE = `usage:
  clustershazbot control <baseUrl> --offline|--online [--prefix clustershazbot]   (needs SHAZBOT_CONTROL_SECRET)
  clustershazbot list <baseUrl> [--prefix clustershazbot]                          (needs SHAZBOT_SECRET)
  clustershazbot state <baseUrl> [--prefix clustershazbot]                         (needs SHAZBOT_SECRET; every server's keys)
  clustershazbot sign <METHOD> <path> [json-body]                                  (needs SHAZBOT_SECRET; prints the header)
environment: SHAZBOT_CLUSTER (default "default")`;

/** Runs `clustershazbot <command> …` with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const name = argv.find((a) => !a.startsWith('-'));
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(name ? `unknown command "${name}"` : '');
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { ...command.options, help: { type: 'boolean', short: 'h' } } });
    if (values.help) throw new UsageError('');
    return await command.run(positionals.slice(1), values);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      return error.exitCode;
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
