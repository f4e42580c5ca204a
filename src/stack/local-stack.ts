/**
 * The local stack, built in one place: a real Temporal dev server, ftpipe's Azure emulator with a profile per
 * emulated account, connections and a client, and ftpipe workers on them. `startLocalServices` is the builder; the
 * four places that run ftpipe locally use it: `ftpipe dev`/`demo` (`startLocalStack`: one worker in this process
 * until Ctrl-C or the demo's end), the test harness (test/helpers/temporal.ts), history recording
 * (test/histories/record.ts) and the pipelines benchmark (bench/pipelines.ts, whose worker runs in a child process).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadCatalog } from '../catalog';
import { AesGcmCodec, ftpipeDataConverter, payloadCodecFromEnv, readKeyFile, writeNewKeyFile } from '../codec';
import { startCodecServer, type RunningCodecServer } from '../codec/server';
import type { AzureProfile } from '../config/profile';
import { withProfiles, type WorkerConfig } from '../config/worker-config';
import { DevServer, type DevServerOptions } from '../devserver/dev-server';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator';
import { createLogger, type Logger } from '../logging';
import { packageRoot, packageVersion } from '../paths';
import { emulatorProfiles } from './emulator-profiles';
import { createFtpipeWorker, type FtpipeWorker, type FtpipeWorkerOptions } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import { shutDownOnSignals } from '../../workers/shutdown';

/** Where a Temporal server serves: a dev server the stack started, or one already running. */
export interface TemporalEndpoint {
  readonly address: string;
  readonly namespace: string;
}

export interface LocalServicesOptions {
  /** The dev server's options: free ports, no Web UI and an in-memory database unless given. */
  server?: DevServerOptions;
  /**
   * A server already running (the test run's shared dev server) to use instead of starting one: the stack connects to
   * it and leaves it running when it stops.
   */
  temporal?: TemporalEndpoint;
  /** The embedded Azure emulator's options, or false for none. */
  emulator: EmulatorOptions | false;
  /** Encrypts the client's payloads (give workers the same codec: `payloadCodec` of createWorker). */
  codec?: PayloadCodec;
}

/** A worker on the stack's server: everything createFtpipeWorker takes but the connection and namespace. */
export type LocalWorkerOptions = Omit<FtpipeWorkerOptions, 'connection' | 'namespace'>;

export interface LocalServices<Server extends TemporalEndpoint = DevServer> {
  /** The stack's dev server, or the running server it was given (`temporal`). */
  server: Server;
  emulator: RunningEmulator | undefined;
  /** One profile per emulated account, plus `emulator` for the first (none without an emulator). */
  profiles: AzureProfile[];
  /** The variables holding the emulator's keys and token, which those profiles name: for the workers' environment. */
  credentials: Record<string, string>;
  connection: Connection;
  nativeConnection: NativeConnection;
  client: Client;
  createWorker(options: LocalWorkerOptions): Promise<FtpipeWorker>;
  /** Closes the connections, then stops the server (unless it was given) and the emulator. */
  stop(): Promise<void>;
}

export function startLocalServices(options: LocalServicesOptions & { temporal: TemporalEndpoint }): Promise<LocalServices<TemporalEndpoint>>;
export function startLocalServices(options: LocalServicesOptions & { temporal?: undefined }): Promise<LocalServices>;
export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices<TemporalEndpoint>> {
  const emulator = options.emulator === false ? undefined : await startEmulator(options.emulator);
  const emulated = emulator ? emulatorProfiles(emulator) : { profiles: [], env: {} };
  let started: DevServer | undefined;
  let nativeConnection: NativeConnection | undefined;
  try {
    started = options.temporal ? undefined : await DevServer.start({ uiPort: false, ...options.server });
    const server: TemporalEndpoint = started ?? options.temporal!;
    nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const devServer = started;
    const native = nativeConnection;
    return {
      server,
      emulator,
      profiles: emulated.profiles,
      credentials: emulated.env,
      connection,
      nativeConnection: native,
      client: new Client({ connection, namespace: server.namespace, dataConverter: ftpipeDataConverter(options.codec) }),
      createWorker: (worker) => createFtpipeWorker({ connection: native, namespace: server.namespace, ...worker }),
      async stop() {
        await connection.close();
        await native.close();
        await devServer?.stop();
        await emulator?.stop();
      },
    };
  } catch (err) {
    await nativeConnection?.close();
    await started?.stop();
    await emulator?.stop();
    throw err;
  }
}

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
  /** The port of the codec server started for the Web UI; a free one when omitted or 0. */
  codecPort?: number;
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
  const codec = payloadCodecFromEnv() ?? (options.codecKeyFile ? new AesGcmCodec(existsSync(options.codecKeyFile) ? readKeyFile(options.codecKeyFile) : writeNewKeyFile(options.codecKeyFile)) : undefined);
  const uiPort = options.uiPort ?? false;
  const codecServer = codec && uiPort !== false && !options.uiCodecEndpoint
    ? await startCodecServer({ codec, origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`], ...(options.codecPort ? { port: options.codecPort } : {}) })
    : undefined;
  const uiCodecEndpoint = options.uiCodecEndpoint ?? codecServer?.url;
  let services: LocalServices | undefined;
  try {
    services = await startLocalServices({
      server: {
        ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        uiPort,
        ...(options.persistent ? { dbFile: join(options.home, 'temporal.sqlite') } : {}),
        logFile: join(options.home, 'temporal.log'),
      },
      emulator: options.emulator === false
        ? false
        : { ...(options.persistent ? { stateFile: join(options.home, 'emulator-state.json'), certDir: join(options.home, 'emulator-cert') } : {}), ...options.emulator },
      ...(codec ? { codec } : {}),
    });
    // The demo's datasets live in the package, wherever `ftpipe dev`/`demo` is started from.
    const config = { ...withProfiles(options.config, services.profiles), dataRoots: options.config.dataRoots ?? [process.cwd(), join(packageRoot(), 'examples')] };
    const worker = await services.createWorker({
      deps: { config, logger, version: packageVersion(), catalog, env: { ...process.env, ...services.credentials } },
      ...(codec ? { payloadCodec: codec } : {}),
    });
    const started = services;
    const closeAll = async (): Promise<void> => {
      await started.stop();
      await codecServer?.close();
      logger.flush();
    };
    return {
      server: started.server,
      emulator: started.emulator,
      worker,
      client: started.client,
      config,
      logger,
      codecServer,
      async runUntilShutdown() {
        const stopListening = shutDownOnSignals(worker, { laterSignals: 'default' });
        try {
          await worker.run();
        } finally {
          stopListening();
          await closeAll();
        }
      },
      async runWith<T>(fn: () => Promise<T>): Promise<T> {
        const stopListening = shutDownOnSignals(worker, { laterSignals: 'default' });
        try {
          return await worker.runUntil(fn());
        } finally {
          stopListening();
          await closeAll();
        }
      },
    };
  } catch (err) {
    await services?.stop();
    await codecServer?.close();
    throw err;
  }
}
