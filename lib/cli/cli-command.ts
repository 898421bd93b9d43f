import type { ParseArgsConfig } from 'node:util';

/** Parsed option values of one command, as `util.parseArgs` returns them. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** One `clustershazbot <name>` command: its help text, its options, and what it does. */
export interface CliCommand {
  name: string;
  /** One line for the command list of `clustershazbot --help`. */
  summary: string;
  /** The full text of `clustershazbot <name> --help`. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; resolves to the process's exit code. */
  run(positionals: string[], values: OptionValues): Promise<number>;
}
