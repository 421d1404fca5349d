// What the log server's unit tests share.
import { LogRequestError } from './log-request.js';

/** The status and message of the LogRequestError `f` throws; fails the test if it throws none. */
export function requestError(f: () => unknown): { status: number; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof LogRequestError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a LogRequestError');
}
