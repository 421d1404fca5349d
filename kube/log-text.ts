// Log lines for a person at a terminal: `shopfloor up` runs every part in one process, and its
// pino JSON lines become one text line each, prefixed by the binary that logged it (each part
// logs under the name it has as a binary of its own: shopfloor-devcluster, shopfloor-operator,
// shopfloor-agent) and the component within it, so that the parts' logs read apart at a glance.
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, shown in the prefix or not at all. */
const FRAME = new Set(['level', 'time', 'pid', 'hostname', 'name', 'component', 'msg']);

/**
 * `11:42:03.120 INFO  agent      node-registration: NodeAgent registered runtime="containerd 1.6"`.
 * The prefix is the `name` field without `shopfloor-`, the component the last `component` field
 * (a child logger of a child logger repeats the key; the innermost is the one that logged). A
 * line that is not a pino JSON object passes through unchanged.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.level !== 'number') return line;
  const time = typeof entry.time === 'number' ? localTime(new Date(entry.time)) : undefined;
  const level = (LEVELS[entry.level] ?? String(entry.level)).padEnd(5);
  const part = String(entry.name ?? '').replace(/^shopfloor-/, '').padEnd(10);
  const component = typeof entry.component === 'string' ? `${entry.component}: ` : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !FRAME.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const words = [level, part, `${component}${String(entry.msg ?? '')}`, ...fields];
  return `${(time === undefined ? words : [time, ...words]).join(' ')}\n`;
}

/** `HH:MM:SS.mmm` in the machine's time zone, as a person at its terminal reads the clock. */
function localTime(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** A pino destination that writes `formatLogLine` of each line to `out`. */
export function textLogDestination(out: DestinationStream): DestinationStream {
  return { write: (line: string) => out.write(formatLogLine(line.endsWith('\n') ? line.slice(0, -1) : line)) };
}
