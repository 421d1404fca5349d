/** One `shopfloor <name>` subcommand. `run` returns the process exit code. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** A usage mistake on the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
