/**
 * The local stack: a real Temporal dev server and an ftpipe worker in this process (and, where the caller asks, the
 * Azure emulator). `ftpipe dev` keeps it up until Ctrl-C; `ftpipe demo` runs one job through it and exits.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createLogger, type Logger } from '../logging';
import { packageVersion } from '../paths';
import type { WorkerConfig } from '../config/worker-config';
import { DevServer } from '../devserver/dev-server';
import { createFtpipeWorker } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import pino from 'pino';

export interface LocalStackOptions {
  /** Folder for the stack's files (database, logs). */
  home: string;
  config: WorkerConfig;
  /** Keep workflow state in `<home>/temporal.sqlite` across restarts. */
  persistent: boolean;
  port?: number;
  /** Web UI port, or false for none. */
  uiPort?: number | false;
}

export interface LocalStack {
  server: DevServer;
  worker: Worker;
  client: Client;
  logger: Logger;
  /** Runs the worker until it is shut down (Ctrl-C, or `shutdown()`), then stops the server. */
  runUntilShutdown(): Promise<void>;
  /** Runs `fn` with the worker polling, then stops worker and server. */
  runWith<T>(fn: () => Promise<T>): Promise<T>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const logger = createLogger({ destination: pino.destination({ dest: join(options.home, 'worker.log'), mkdir: true, sync: false }) });
  installRuntime({ logger });
  const server = await DevServer.start({
    ...(options.port !== undefined ? { port: options.port } : {}),
    uiPort: options.uiPort ?? false,
    ...(options.persistent ? { dbFile: join(options.home, 'temporal.sqlite') } : {}),
    logFile: join(options.home, 'temporal.log'),
  });
  try {
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const worker = await createFtpipeWorker({
      connection: nativeConnection,
      namespace: server.namespace,
      deps: { config: options.config, logger, version: packageVersion() },
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const closeAll = async (): Promise<void> => {
      await connection.close();
      await nativeConnection.close();
      await server.stop();
      logger.flush();
    };
    return {
      server,
      worker,
      client,
      logger,
      async runUntilShutdown() {
        try {
          await worker.run();
        } finally {
          await closeAll();
        }
      },
      async runWith<T>(fn: () => Promise<T>): Promise<T> {
        try {
          return await worker.runUntil(fn());
        } finally {
          await closeAll();
        }
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
