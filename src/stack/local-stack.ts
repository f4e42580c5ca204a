/**
 * The local stack: a real Temporal dev server, ftpipe's Azure emulator, and an ftpipe worker in this process.
 * `ftpipe dev` keeps it up until Ctrl-C; `ftpipe demo` runs one pipeline through it and exits.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadCatalog } from '../catalog';
import { AesGcmCodec, ftpipeDataConverter, payloadCodecFromEnv, readKeyFile, writeNewKeyFile } from '../codec';
import { startCodecServer, type RunningCodecServer } from '../codec/server';
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
  /**
   * Encrypt payloads: with FTPIPE_CODEC_KEYS / FTPIPE_CODEC_KEY_FILE when set, else with this key file (created with a
   * random key on first use). With a Web UI, a codec server is started for it unless `uiCodecEndpoint` names one.
   */
  codecKeyFile?: string;
  uiCodecEndpoint?: string;
}

export interface LocalStack {
  server: DevServer;
  emulator: RunningEmulator | undefined;
  worker: FtpipeWorker;
  client: Client;
  config: WorkerConfig;
  logger: Logger;
  /** The codec server the Web UI uses, when the stack started one. */
  codecServer: RunningCodecServer | undefined;
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
  const codec = payloadCodecFromEnv() ?? (options.codecKeyFile ? new AesGcmCodec(existsSync(options.codecKeyFile) ? readKeyFile(options.codecKeyFile) : writeNewKeyFile(options.codecKeyFile)) : undefined);
  const uiPort = options.uiPort ?? false;
  const codecServer = codec && uiPort !== false && !options.uiCodecEndpoint
    ? await startCodecServer({ codec, origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`] })
    : undefined;
  const uiCodecEndpoint = options.uiCodecEndpoint ?? codecServer?.url;
  let server: DevServer | undefined;
  try {
    server = await DevServer.start({
      ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
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
      ...(codec ? { payloadCodec: codec } : {}),
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace, dataConverter: ftpipeDataConverter(codec) });
    const devServer = server;
    const closeAll = async (): Promise<void> => {
      await connection.close();
      await nativeConnection.close();
      await devServer.stop();
      await emulator?.stop();
      await codecServer?.close();
      logger.flush();
    };
    return {
      server: devServer,
      emulator,
      worker,
      client,
      config,
      logger,
      codecServer,
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
    await codecServer?.close();
    throw err;
  }
}
