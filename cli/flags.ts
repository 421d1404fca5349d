// Flag reading shared by the long-running commands: every flag may also come from environment
// variables (as a Deployment or DaemonSet sets them), the flag wins, and a bad value is a
// UsageError that names where it came from.
import { parseArgs } from 'node:util';
import { parseLogLevel, type LogLevel } from '../kube/logger.js';
import { UsageError } from './command.js';

export interface FlagValue {
  value: string;
  /** `--flag`, the environment variable's name, or what the default is. */
  from: string;
}

type StringOptions = Record<string, { type: 'string' }>;

export interface Flags<K extends string> {
  /** The flag's value, else the first set environment variable of `envVars`. */
  pick(flag: K, ...envVars: string[]): FlagValue | undefined;
}

export function readFlags<O extends StringOptions>(argv: string[], options: O, env: Record<string, string | undefined>): Flags<keyof O & string> {
  let values: Partial<Record<string, string>>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: Partial<Record<string, string>> });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    pick(flag, ...envVars) {
      const v = values[flag];
      if (v !== undefined) return { value: v, from: `--${flag}` };
      for (const name of envVars) {
        const e = env[name];
        if (e) return { value: e, from: name };
      }
      return undefined;
    },
  };
}

/** A metrics listen address, host:port, or "off"; `example` shows the command's default. */
export function metricsAddressFlag(v: FlagValue, example: string): string | false {
  if (v.value === 'off') return false;
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/.test(v.value)) throw new UsageError(`${v.from} "${v.value}" is not host:port (e.g. ${example}) or "off"`);
  return v.value;
}

/** A number of seconds, at least `min`, in milliseconds. */
export function secondsFlag(v: FlagValue, min: number): number {
  if (!/^\d+(\.\d+)?$/.test(v.value) || Number(v.value) < min) throw new UsageError(`${v.from} "${v.value}" must be a number of seconds, at least ${min}`);
  return Number(v.value) * 1000;
}

export function logLevelFlag(v: FlagValue): LogLevel {
  try {
    return parseLogLevel(v.value, v.from);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
