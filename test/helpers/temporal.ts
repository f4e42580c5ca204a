/** Test harness: the real Temporal dev server (installed by scripts/install-temporal), the emulator, and ftpipe workers on them. */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { type NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { WorkerConfig } from '../../src/config/worker-config';
import type { DevServer, DevServerOptions } from '../../src/devserver/dev-server';
import type { EmulatorOptions } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import { startLocalServices, type LocalServices } from '../../src/stack/local-stack';
import type { FtpipeWorker, FtpipeWorkerOptions, WorkflowSource } from '../../workers/worker';
import pino from 'pino';

let runtimeInstalled = false;

/** Keeps the SDK's own logs out of test output unless FTPIPE_TEST_LOGS is set. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  if (!process.env.FTPIPE_TEST_LOGS) Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * The test run's one workflow bundle (scripts/run-tests.mjs makes it before the first test file starts), or the
 * sources when a test file runs on its own; either way the same workflow code.
 */
export function testWorkflowSource(): WorkflowSource {
  const bundle = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
  return bundle ? { workflowBundlePath: bundle } : { workflowsPath: require.resolve('../../workflows') };
}

export type WorkerCreateOptions = { taskQueue: string; config?: WorkerConfig; env?: NodeJS.ProcessEnv } & Partial<Omit<FtpipeWorkerOptions, 'connection' | 'namespace' | 'deps'>>;

export interface TemporalTestEnv {
  /** The file's local stack (src/stack/local-stack.ts), as `ftpipe dev`, the recorder and the benchmark build it. */
  services: LocalServices;
  server: DevServer;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** A task queue unique to one test, so tests in a file never steal each other's tasks. */
  taskQueue(): string;
  createWorker(options: WorkerCreateOptions): Promise<FtpipeWorker>;
}

/**
 * Starts the local stack (a dev server, and the emulator when `emulator` is given) before the file's tests and stops
 * it after them. Returns a holder filled in by `before`.
 */
export function useTemporal(options: DevServerOptions = {}, emulator: EmulatorOptions | false = false): TemporalTestEnv {
  const env = {} as TemporalTestEnv;
  before(async () => {
    quietRuntime();
    env.services = await startLocalServices({ server: options, emulator });
    env.server = env.services.server;
    env.connection = env.services.connection;
    env.nativeConnection = env.services.nativeConnection;
    env.client = env.services.client;
    env.taskQueue = () => `test-${randomUUID()}`;
    env.createWorker = async ({ taskQueue, config, env: processEnv, ...rest }) =>
      env.services.createWorker({
        taskQueue,
        deps: {
          config: config ?? { profiles: [] },
          logger: createLogger({ level: process.env.FTPIPE_TEST_LOGS ? 'debug' : 'silent', destination: pino.destination(2) }),
          version: 'test',
          ...(processEnv ? { env: processEnv } : {}),
        },
        workflowSource: testWorkflowSource(),
        shutdownGraceTime: '1s',
        ...rest,
      });
  });
  after(async () => {
    await env.services?.stop();
  });
  return env;
}
