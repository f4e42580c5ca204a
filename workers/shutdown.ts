/**
 * The worker's shutdown signals, as an operator sees them. The SDK's Runtime starts the graceful shutdown on the first
 * of its shutdown signals and then stops listening, so without a listener of ours a second one ends the process at
 * once by Node's default, in the middle of the shutdown. A second signal is common and not a wish to stop harder:
 * systemd's default KillMode=control-group signals every process of the service, so a launched worker
 * (workers/launcher.ts) gets SIGTERM from systemd and again from its launcher. So every one after the first is logged
 * and the graceful shutdown goes on; it is bounded by the shutdown grace time (then the SDK cancels the activities),
 * and SIGKILL stops the worker at once.
 */
import type { Logger } from '../src/logging';
import { SDK_SHUTDOWN_SIGNALS } from './launcher';

/** Logs the shutdown signals from the first on and keeps later ones from ending the worker mid-shutdown. */
export function logShutdownSignals(logger: Logger, shutdownGrace: string): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) logger.info({ signal, shutdownGrace }, 'ftpipe worker shutting down: in-flight activities may finish within the shutdown grace time');
    else logger.warn({ signal, received }, 'ftpipe worker: shutdown signal again; the graceful shutdown goes on (SIGKILL stops the worker at once)');
  };
  for (const signal of SDK_SHUTDOWN_SIGNALS) process.on(signal, onSignal);
}
