/**
 * The local stack: a real Temporal dev server, ftpipe's Azure emulator, and an ftpipe worker in this process.
 * `ftpipe dev` keeps it up until Ctrl-C; `ftpipe demo` runs one pipeline through it and exits.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadCatalog } from '../catalog';
import { withProfiles, type WorkerConfig } from '../config/worker-config';
import { DevServer } from '../devserver/dev-server';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator';
import { createLogger, type Logger } from '../logging';
import { packageRoot, packageVersion } from '../paths';
import { emulatorProfiles } from './emulator-profiles';
import { createFtpipeWorker, type FtpipeWorker } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';

export interface LocalStackOptions {
  /** Folder for the stack's files (database, logs, emulator state). */
  home: string;
  config: WorkerConfig;
  /** Keep workflow and emulator state in `home` across restarts. */
  persistent: boolean;
  port?: number;
  /** Web UI port, or false for none. */
  uiPort?: number | false;
  /** Options for the embedded Azure emulator, or false to run without one. */
  emulator: EmulatorOptions | false;
}

export interface LocalStack {
  server: DevServer;
  emulator: RunningEmulator | undefined;
  worker: FtpipeWorker;
  client: Client;
  config: WorkerConfig;
  logger: Logger;
  /** Runs the worker until it is shut down (Ctrl-C, or `shutdown()`), then stops everything. */
  runUntilShutdown(): Promise<void>;
  /** Runs `fn` with the worker polling, then stops everything. */
  runWith<T>(fn: () => Promise<T>): Promise<T>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const logger = createLogger({ destination: pino.destination({ dest: join(options.home, 'worker.log'), mkdir: true, sync: false }) });
  installRuntime({ logger });
  const catalog = await loadCatalog();
  const emulator = options.emulator === false
    ? undefined
    : await startEmulator({
        ...(options.persistent ? { stateFile: join(options.home, 'emulator-state.json'), certDir: join(options.home, 'emulator-cert') } : {}),
        ...options.emulator,
      });
  const emulated = emulator ? emulatorProfiles(emulator) : { profiles: [], env: {} };
  // The demo's datasets live in the package, wherever `ftpipe dev`/`demo` is started from.
  const config = { ...withProfiles(options.config, emulated.profiles), dataRoots: options.config.dataRoots ?? [process.cwd(), join(packageRoot(), 'examples')] };
  let server: DevServer | undefined;
  try {
    server = await DevServer.start({
      ...(options.port !== undefined ? { port: options.port } : {}),
      uiPort: options.uiPort ?? false,
      ...(options.persistent ? { dbFile: join(options.home, 'temporal.sqlite') } : {}),
      logFile: join(options.home, 'temporal.log'),
    });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const worker = await createFtpipeWorker({
      connection: nativeConnection,
      namespace: server.namespace,
      deps: { config, logger, version: packageVersion(), catalog, env: { ...process.env, ...emulated.env } },
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const devServer = server;
    const closeAll = async (): Promise<void> => {
      await connection.close();
      await nativeConnection.close();
      await devServer.stop();
      await emulator?.stop();
      logger.flush();
    };
    return {
      server: devServer,
      emulator,
      worker,
      client,
      config,
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
    await server?.stop();
    await emulator?.stop();
    throw err;
  }
}
