/** Bad usage of a command (a wrong flag, a missing argument): exit code 2, as every ftpipe command answers it. */
import { InvalidArgumentError } from 'commander';

export function usageError(message: string): Error {
  process.exitCode = 2;
  return new Error(message);
}

/*
 * Option parsers: commander answers an InvalidArgumentError with "option '--x <n>' argument 'abc' is invalid. <why>"
 * and exit 2; a value such as NaN never reaches a command.
 */

/** A `--port` value: a TCP port number (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`not a port (0-65535): ${value}`);
  return port;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${value}`);
  return n;
}

/** A number of seconds above zero (`--timeout`, `--interval`). */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a number of seconds above zero: ${value}`);
  return n;
}

/** The emulator's `--clock-scale`: emulated seconds per real second. */
export function parseClockScale(value: string): number {
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale < 0) throw new InvalidArgumentError(`not a clock scale (emulated seconds per real second, >= 0): ${value}`);
  return scale;
}
