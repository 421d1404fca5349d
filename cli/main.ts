import { pathToFileURL } from 'node:url';
import { UsageError, type Command } from './command.js';

// Commands load lazily so that `shopfloor validate` does not pay for the operator's imports.
const commands: Record<string, () => Promise<Command>> = {
  agent: async () => (await import('./agent.js')).agentCommand,
  devcluster: async () => (await import('./devcluster.js')).devclusterCommand,
  logs: async () => (await import('./logs.js')).logsCommand,
  operator: async () => (await import('./operator.js')).operatorCommand,
  up: async () => (await import('./up.js')).upCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
};

function help(): string {
  const names = Object.keys(commands).sort();
  return [
    'usage: shopfloor <command> [options]',
    '',
    'commands:',
    ...names.map((n) => `  ${n}`),
    '',
    'Run `shopfloor <command> --help` for the options of one command.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`shopfloor: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\n${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`shopfloor ${name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    throw err;
  }
}

// Run directly (`node --import tsx cli/main.ts <command>`, as tests and `npm start` do from
// source); bin/shopfloor.js imports this module and calls run() itself.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2));
}
