/**
 * The worker's shutdown signals. ftpipe, not the SDK's Runtime (workers/runtime.ts), stops the worker on them: the
 * Runtime shuts every worker of the process down at once, and an ftpipe worker's three must stop in order
 * (FtpipeWorker.shutdown). For `ftpipe worker` a second signal is common and not a wish to stop harder: systemd's
 * default KillMode=control-group signals every process of the service, so a launched worker (workers/launcher.ts)
 * gets SIGTERM from systemd and again from its launcher. So every one after the first is logged and the graceful
 * shutdown goes on; it is bounded by the shutdown grace time (then the SDK cancels the activities), and SIGKILL stops
 * the worker at once.
 */
import type { Logger } from '../src/logging';
import { SDK_SHUTDOWN_SIGNALS } from './launcher';

export interface ShutdownSignalOptions {
  /** Logs each signal, the first with the grace time in-flight activities get. */
  log?: { logger: Logger; shutdownGrace: string };
  /**
   * After the first signal: `logged` keeps listening (a later one is logged and the shutdown goes on), `default` stops
   * listening, so a later one ends the process by Node's default (a second Ctrl-C in a terminal).
   */
  laterSignals: 'logged' | 'default';
}

/** Starts `worker`'s graceful shutdown on the first shutdown signal. Returns a function that stops listening. */
export function shutDownOnSignals(worker: { shutdown(): void }, options: ShutdownSignalOptions): () => void {
  let received = 0;
  const stopListening = (): void => {
    for (const signal of SDK_SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    received += 1;
    if (received === 1) {
      options.log?.logger.info({ signal, shutdownGrace: options.log.shutdownGrace }, 'ftpipe worker shutting down: in-flight activities may finish within the shutdown grace time');
      if (options.laterSignals === 'default') stopListening();
      worker.shutdown();
      return;
    }
    options.log?.logger.warn({ signal, received }, 'ftpipe worker: shutdown signal again; the graceful shutdown goes on (SIGKILL stops the worker at once)');
  }
  for (const signal of SDK_SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  return stopListening;
}
