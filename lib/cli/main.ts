import { parseArgs } from 'node:util';
import type { CliCommand } from './cli-command.js';
import { CliError, EXIT, UsageError } from './cli-errors.js';
import { ENVIRONMENT_HELP } from './cli-options.js';
import { controlCommand } from './commands/control.command.js';
import { dashboardCommand } from './commands/dashboard.command.js';
import { drainCommand } from './commands/drain.command.js';
import { listCommand } from './commands/list.command.js';
import { membersCommand } from './commands/members.command.js';
import { signCommand } from './commands/sign.command.js';
import { stateCommand } from './commands/state.command.js';
import { undrainCommand } from './commands/undrain.command.js';
import { watchCommand } from './commands/watch.command.js';

const COMMANDS: CliCommand[] = [membersCommand, drainCommand, undrainCommand, watchCommand, dashboardCommand, listCommand, stateCommand, controlCommand, signCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: clustershazbot <command> <baseUrl> [options]

Operate a clustershazbot cluster: every request is signed with a secret from the environment.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

"clustershazbot <command> --help" describes a command and its options.

${ENVIRONMENT_HELP}
`;
}

function parse(command: CliCommand, argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...command.options, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    // util.parseArgs' own messages name the option ("Unknown option '--x'"); they hold no secret
    throw new UsageError(error instanceof Error ? error.message.split('. ')[0] : String(error));
  }
}

/**
 * Runs `clustershazbot <command> …` with these arguments (without node and the script);
 * resolves to the exit code (see `EXIT`). Help goes to stdout with exit code 0; errors go to
 * stderr as one line that says what to fix.
 */
export async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('-'));
  const rest = name === undefined ? argv : argv.filter((a, i) => i !== argv.indexOf(name));
  if (name === undefined || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === (name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined));
    const asked = name === 'help' || argv.includes('--help') || argv.includes('-h');
    (asked ? process.stdout : process.stderr).write(topic ? `${topic.help}\n` : overview());
    return asked ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
    const { positionals, values } = parse(command, rest);
    if (values.help) {
      process.stdout.write(`${command.help}\n`);
      return EXIT.ok;
    }
    return await command.run(positionals, values);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write(`run "clustershazbot ${command ? `${command.name} ` : ''}--help" for usage\n`);
    return error instanceof CliError ? error.exitCode : EXIT.refused;
  }
}
