/** Test harness: the real Temporal dev server (installed by scripts/install-temporal) and ftpipe workers on it. */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { WorkerConfig } from '../../src/config/worker-config';
import { DevServer, type DevServerOptions } from '../../src/devserver/dev-server';
import { createLogger } from '../../src/logging';
import { createFtpipeWorker, type FtpipeWorker, type FtpipeWorkerOptions } from '../../workers/worker';
import pino from 'pino';

let runtimeInstalled = false;

/** Keeps the SDK's own logs out of test output unless FTPIPE_TEST_LOGS is set. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  if (!process.env.FTPIPE_TEST_LOGS) Runtime.install({ logger: new DefaultLogger('ERROR') });
}

export type WorkerCreateOptions = { taskQueue: string; config?: WorkerConfig; env?: NodeJS.ProcessEnv } & Partial<Omit<FtpipeWorkerOptions, 'connection' | 'namespace' | 'deps'>>;

export interface TemporalTestEnv {
  server: DevServer;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** A task queue unique to one test, so tests in a file never steal each other's tasks. */
  taskQueue(): string;
  createWorker(options: WorkerCreateOptions): Promise<FtpipeWorker>;
}

/**
 * Starts a dev server before the file's tests and stops it after them. Returns a holder filled in by `before`.
 */
export function useTemporal(options: DevServerOptions = {}): TemporalTestEnv {
  const env = {} as TemporalTestEnv;
  before(async () => {
    quietRuntime();
    env.server = await DevServer.start({ uiPort: false, ...options });
    env.connection = await Connection.connect({ address: env.server.address });
    env.nativeConnection = await NativeConnection.connect({ address: env.server.address });
    env.client = new Client({ connection: env.connection, namespace: env.server.namespace });
    env.taskQueue = () => `test-${randomUUID()}`;
    env.createWorker = async ({ taskQueue, config, env: processEnv, ...rest }) =>
      createFtpipeWorker({
        connection: env.nativeConnection,
        namespace: env.server.namespace,
        taskQueue,
        deps: {
          config: config ?? { profiles: [] },
          logger: createLogger({ level: process.env.FTPIPE_TEST_LOGS ? 'debug' : 'silent', destination: pino.destination(2) }),
          version: 'test',
          ...(processEnv ? { env: processEnv } : {}),
        },
        workflowSource: { workflowsPath: require.resolve('../../workflows') },
        shutdownGraceTime: '1s',
        ...rest,
      });
  });
  after(async () => {
    await env.connection?.close();
    await env.nativeConnection?.close();
    await env.server?.stop();
  });
  return env;
}
