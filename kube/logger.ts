import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Checks a `--log-level` value; the error names the flag and the allowed values. */
export function parseLogLevel(value: string, flag = '--log-level'): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`${flag} "${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
}

/**
 * The process logger: pino JSON lines on stdout (or `destination`), with `name` naming the
 * binary. Components take child loggers (`logger.child({ controller })`) and log objects with
 * their `namespace`/`name` fields.
 */
export function createLogger(options: { name: string; level?: LogLevel; destination?: DestinationStream }): Logger {
  return pino({ name: options.name, level: options.level ?? 'info' }, options.destination);
}

/** A logger that writes nothing, for library code whose caller passed none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
