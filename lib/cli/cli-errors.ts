/**
 * Exit codes of every `clustershazbot` command (docs/cli.md lists them):
 * - 0: done (and `--help`);
 * - 1: a server answered with an error: 401 (wrong secret), 403 (another cluster), 404, 429, 5xx…;
 * - 2: usage: an unknown command or option, a bad URL or number, a missing secret;
 * - 3: a server could not be reached: connection refused, unknown host, no answer in time;
 * - 4: `drain`/`undrain`: not every reachable member confirmed the change before `--timeout`.
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, notConfirmed: 4 } as const;

/** A failure the CLI explains in one line and maps to an exit code. Messages never hold a secret. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A mistake in the command line or the environment: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A server answered, with an error status or with something that is not what the endpoint returns: exit code 1. */
export class RefusedError extends CliError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, EXIT.refused);
  }
}

/** No answer from a server (refused connection, unknown host, timeout): exit code 3. */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, EXIT.unreachable);
  }
}
