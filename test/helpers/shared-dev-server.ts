/**
 * The test run's shared Temporal dev server, as a process of its own: scripts/run-tests.mjs starts it, reads the line
 * `serving <address> <namespace>` from its stdout and passes the address to the test files
 * (FTPIPE_TEST_TEMPORAL_ADDRESS). It stops the server on SIGTERM/SIGINT, and when its stdin closes, which happens
 * however the runner ends (even killed), so no server outlives the run.
 */
import { DevServer } from '../../src/devserver/dev-server';
import { testServerOptions } from './dev-server-config';

async function main(): Promise<void> {
  const server = await DevServer.start(testServerOptions({ uiPort: false, ...(process.env.FTPIPE_TEST_TEMPORAL_LOG ? { logFile: process.env.FTPIPE_TEST_TEMPORAL_LOG } : {}) }));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= server.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.stdin.once('end', () => void stop());
  process.stdin.once('close', () => void stop());
  process.stdin.resume();
  process.stdout.write(`serving ${server.address} ${server.namespace}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
