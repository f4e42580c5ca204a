/**
 * What `ftpipe dev` checks before it starts anything: that the ports it was told to listen on are distinct and free,
 * and that no other `ftpipe dev` uses its state folder (two Temporal servers on one SQLite file corrupt it). Both are
 * bad usage (exit 2), said in one line naming the flag, the port or the folder, and what to do instead. `ftpipe demo`
 * and `ftpipe emulator` check their ports the same way.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Why a dev stack cannot start as asked: the CLI answers it with exit 2. */
export class DevUsageError extends Error {
  override name = 'DevUsageError';
}

/**
 * Says a DevUsageError as `ftpipe <command>: <why>` in one line, without commander's help after it (the flags were
 * well formed, their values cannot be served), and sets exit 2; false for any other error, which the caller throws.
 */
export function refusedUsage(command: string, err: unknown): boolean {
  if (!(err instanceof DevUsageError)) return false;
  console.error(`ftpipe ${command}: ${err.message}`);
  process.exitCode = 2;
  return true;
}

/** One listening port of the dev stack, as given on the command line; 0 means a free one, picked when it starts. */
export interface DevPort {
  flag: string;
  port: number;
}

/** Refuses a port given to two flags, then one that another process listens on (or that needs privileges) on `host`. */
export async function checkDevPorts(ports: readonly DevPort[], host = '127.0.0.1'): Promise<void> {
  const byPort = new Map<number, string>();
  for (const { flag, port } of ports) {
    if (port === 0) continue;
    const other = byPort.get(port);
    if (other) throw new DevUsageError(`${flag} ${port}: the same port as ${other}; each server needs its own port (or 0 for a free one)`);
    byPort.set(port, flag);
  }
  for (const { flag, port } of ports) {
    if (port === 0) continue;
    const problem = await cannotListen(port, host);
    if (problem) throw new DevUsageError(`${flag} ${port}: ${problem}`);
  }
}

/** Why a server cannot listen on `host:port`, in words, from the error `listen` gave; undefined for another error. */
export function listenProblem(err: unknown, port: number, host: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `port ${port} is in use on ${host} (another ftpipe server or another program listens there); choose another port, or 0 for a free one`;
  if (code === 'EACCES') return `port ${port} needs privileges this process lacks; choose a port above 1023, or 0 for a free one`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return undefined;
}

function cannotListen(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(listenProblem(err, port, host) ?? `cannot listen on ${host}:${port}: ${err.message}`));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * Claims `home` for this process with a pid file, `dev.pid`; refuses it while the process named there is alive. A
 * file left by a stack that was killed is taken over. Returns the release, which removes the file.
 */
export function claimDevHome(home: string): () => void {
  const pidFile = join(home, 'dev.pid');
  for (;;) {
    try {
      const fd = openSync(pidFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(pidFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new DevUsageError(`${home} is in use by another ftpipe dev (pid ${holder}); stop it, or give this one its own state folder with FTPIPE_HOME=<folder> (and its own ports)`);
    }
    rmSync(pidFile, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
