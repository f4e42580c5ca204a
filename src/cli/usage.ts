/** Bad usage of a command (a wrong flag, a missing argument): exit code 2, as every ftpipe command answers it. */
export function usageError(message: string): Error {
  process.exitCode = 2;
  return new Error(message);
}

/** A `--port` value: a TCP port number (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${value}`);
  return port;
}
