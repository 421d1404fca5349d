// The flag schema of the long-running commands. Each command declares its flags once — the
// environment variables that stand in for each (as a Deployment or DaemonSet sets them), its
// default, and the parser that checks it — and `up` reuses the declarations of the commands it
// starts, so that a bad value is refused with the same words whichever command was given it.
// The flag wins over the environment, the environment over the default, and a bad value is a
// UsageError that names where it came from.
import { parseArgs } from 'node:util';
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { parseLogLevel, type LogLevel } from '../kube/logger.js';
import { UsageError } from './command.js';

export interface FlagValue {
  value: string;
  /** `--flag`, the environment variable's name, or what the default is. */
  from: string;
}

/** Checks a value and turns it into an option; throws a UsageError naming `v.from`. */
export type FlagParser<T> = (v: FlagValue) => T;

/** One flag of a command. */
export interface Flag<T> {
  /** Environment variables read when the flag is absent, the first one set wins. */
  env: readonly string[];
  /** The option from the flag's value (or the environment's), or from its absence. */
  read(given: FlagValue | undefined, flag: string): T;
}

export type FlagSchema = Record<string, Flag<unknown>>;

/** The options a schema reads, keyed by flag name. */
export type FlagOptions<S extends FlagSchema> = { [K in keyof S]: S[K] extends Flag<infer T> ? T : never };

interface FlagSettings {
  env?: readonly string[];
}

/** A flag with a default: its text (called "default" in errors) or a computed value that says what it is. */
export function flag<T>(parse: FlagParser<T>, settings: FlagSettings & { default: string | (() => FlagValue) }): Flag<T> {
  const fallback = settings.default;
  return {
    env: settings.env ?? [],
    read: (given) => parse(given ?? (typeof fallback === 'string' ? { value: fallback, from: 'default' } : fallback())),
  };
}

/** A flag without a default: undefined when absent. */
export function optionalFlag<T>(parse: FlagParser<T>, settings: FlagSettings = {}): Flag<T | undefined> {
  return { env: settings.env ?? [], read: (given) => (given === undefined ? undefined : parse(given)) };
}

/** A flag the command cannot do without. */
export function requiredFlag<T>(parse: FlagParser<T>, settings: FlagSettings = {}): Flag<T> {
  return {
    env: settings.env ?? [],
    read: (given, name) => {
      if (given === undefined || given.value === '') throw new UsageError(`--${name} is required`);
      return parse(given);
    },
  };
}

/** Reads `argv` (flags only) and `env` by `schema`; unknown flags and bad values are UsageErrors. */
export function parseFlags<S extends FlagSchema>(argv: string[], schema: S, env: Record<string, string | undefined>): FlagOptions<S> {
  const options = Object.fromEntries(Object.keys(schema).map((name) => [name, { type: 'string' as const }]));
  let values: Partial<Record<string, string>>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: Partial<Record<string, string>> });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(schema)) {
    const given = values[name];
    const set = def.env.find((v) => env[v]);
    out[name] = def.read(given !== undefined ? { value: given, from: `--${name}` } : set !== undefined ? { value: env[set]!, from: set } : undefined, name);
  }
  return out as FlagOptions<S>;
}

/** The value as given. */
export const text: FlagParser<string> = (v) => v.value;

/** One of `allowed`. */
export function oneOf<const T extends string>(allowed: readonly T[]): FlagParser<T> {
  return (v) => {
    if (!(allowed as readonly string[]).includes(v.value)) throw new UsageError(`${v.from} "${v.value}" must be one of ${allowed.join(', ')}`);
    return v.value as T;
  };
}

/** `true` or `false`. */
export const boolean: FlagParser<boolean> = (v) => {
  if (v.value !== 'true' && v.value !== 'false') throw new UsageError(`${v.from} "${v.value}" must be true or false`);
  return v.value === 'true';
};

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number): FlagParser<number> {
  return (v) => {
    const n = Number(v.value);
    if (!/^\d+$/.test(v.value) || n < min || n > max) throw new UsageError(`${v.from} "${v.value}" must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A TCP port to listen on, 0 for a free one. */
export const portNumber: FlagParser<number> = (v) => {
  if (!/^\d+$/.test(v.value) || Number(v.value) > 65535) throw new UsageError(`${v.from} "${v.value}" is not a port number (0-65535)`);
  return Number(v.value);
};

/** A listen address, host:port, or "off"; `example` shows the command's default. */
export function listenAddress(example: string): FlagParser<string | false> {
  return (v) => {
    if (v.value === 'off') return false;
    if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/.test(v.value)) throw new UsageError(`${v.from} "${v.value}" is not host:port (e.g. ${example}) or "off"`);
    return v.value;
  };
}

/** A number of seconds, at least `min`, in milliseconds. */
export function seconds(min: number): FlagParser<number> {
  return (v) => {
    if (!/^\d+(\.\d+)?$/.test(v.value) || Number(v.value) < min) throw new UsageError(`${v.from} "${v.value}" must be a number of seconds, at least ${min}`);
    return Number(v.value) * 1000;
  };
}

/** Runs `check`, a validator of another part that throws plain Errors, as a flag parser. */
export function checked<T>(check: (v: FlagValue) => T): FlagParser<T> {
  return (v) => {
    try {
      return check(v);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError((err as Error).message);
    }
  };
}

const logLevel: FlagParser<LogLevel> = checked((v) => parseLogLevel(v.value, v.from));

/** `--log-level`, the same for every command. */
export const LOG_LEVEL_FLAG = flag(logLevel, { env: ['SHOPFLOOR_LOG_LEVEL'], default: 'info' });

const namespaceName: FlagParser<string> = (v) => {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.value) || v.value.length > 63) {
    throw new UsageError(`${v.from} "${v.value}" is not a namespace name (a DNS-1123 label: lowercase letters, digits, "-")`);
  }
  return v.value;
};

/**
 * `--namespace`, Shopfloor's own namespace, the same for the operator and the agent: the agents keep
 * their node Leases there and the operator watches them and keeps its leader Lease there. A pod
 * learns it from POD_NAMESPACE (the downward API), so an install in any namespace is consistent.
 */
export const NAMESPACE_FLAG = flag(namespaceName, { env: ['SHOPFLOOR_NAMESPACE', 'POD_NAMESPACE'], default: DEFAULT_SYSTEM_NAMESPACE });
