/** A mistake in the command line or the environment: printed with the usage, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}
