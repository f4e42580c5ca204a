/**
 * Process settings an ftpipe worker needs before `node` starts, and the launcher that gives them to `ftpipe worker`.
 * glibc reads `MALLOC_ARENA_MAX` once, at the process's first allocation, so a running process cannot set it for
 * itself: `ftpipe worker` started without it runs the worker in a child process that has it (bin/ftpipe.js), and
 * stays beside it as its launcher (about 7 MiB of memory of its own; the node binary's pages are shared).
 */
import { spawn } from 'node:child_process';

/**
 * Two malloc arenas instead of glibc's eight per core. The SDK's Rust core, gRPC, libuv's and V8's threads each
 * allocate in an arena of their own, and what one arena frees no other reuses (docs/benchmarks.md, "Process-level
 * settings"). A value the caller set wins. The Docker image sets the same in its environment.
 */
export const WORKER_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Set in the launched worker's environment: the launcher's pid, so the worker stops when the launcher goes away. */
const LAUNCHER_PID = 'FTPIPE_WORKER_LAUNCHER_PID';

/** The signals a worker stops on: the SDK's defaults (the Runtime's `shutdownSignals`), which ftpipe handles itself (workers/shutdown.ts). */
export const SDK_SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

/** The SDK's shutdown signals and SIGHUP: what a service manager or terminal sends. */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [...SDK_SHUTDOWN_SIGNALS, 'SIGHUP'];

/** The environment of a worker process: `env` with WORKER_PROCESS_ENV's variables where `env` has none. */
export function workerProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [name, value] of Object.entries(WORKER_PROCESS_ENV)) if (out[name] === undefined) out[name] = value;
  return out;
}

/** MALLOC_ARENA_MAX means something to glibc only. */
function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  // Node 20.13+; the report's network section would cost a DNS lookup per interface (its types lack the flag).
  (process.report as { excludeNetwork?: boolean }).excludeNetwork = true;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/**
 * Called first thing by `ftpipe worker`. When this process lacks a setting of WORKER_PROCESS_ENV (on glibc), starts the
 * same command in a child process that has them and returns true: this process then only passes signals on and exits
 * as the child does. The child runs in a process group of its own, so a terminal's Ctrl-C reaches it once, through
 * the launcher; a service manager that signals every process of the service still signals it twice, which the
 * worker's own listener (workers/shutdown.ts) keeps from ending its graceful shutdown. Returns false when this process is the worker (a launched child, or one with
 * every setting), after making a launched child shut down gracefully if its launcher goes away.
 */
export function launchWithWorkerSettings(): boolean {
  if (process.env[LAUNCHER_PID] !== undefined) {
    delete process.env[LAUNCHER_PID];
    stopWhenLauncherGoes();
    return false;
  }
  const env = workerProcessEnv(process.env);
  if (Object.keys(WORKER_PROCESS_ENV).every((name) => process.env[name] === env[name]) || !runsOnGlibc()) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...env, [LAUNCHER_PID]: String(process.pid) },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  // The listeners stay until this process is gone: a signal that came while it exits (a service manager signals the
  // launcher and the worker at once) would otherwise end it by that signal instead of the worker's exit code.
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.once('error', (err) => {
    console.error(`ftpipe worker: could not start the worker process: ${err.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      // Ended as the worker was: only this signal's listener goes, so that the signal has its default effect.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  return true;
}

/** In the launched worker: its launcher's IPC channel closes when the launcher dies (even by SIGKILL); then stop as on SIGTERM. */
function stopWhenLauncherGoes(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
