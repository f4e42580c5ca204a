/** Test harness: the real Temporal dev server (installed by scripts/install-temporal), the emulator, and ftpipe workers on them. */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { type LogEntry, type NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { WorkerConfig } from '../../src/config/worker-config';
import type { DevServer, DevServerOptions } from '../../src/devserver/dev-server';
import { DEFAULT_NAMESPACE, TASK_QUEUE } from '../../src/temporal/constants';
import type { EmulatorOptions } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import { startLocalServices, type LocalServices, type TemporalEndpoint } from '../../src/stack/local-stack';
import type { FtpipeWorker, FtpipeWorkerOptions, WorkflowSource } from '../../workers/worker';
import pino from 'pino';
import { testServerOptions } from './dev-server-config';

let runtimeInstalled = false;
const sdkWarnings: LogEntry[] = [];
const SDK_WARNINGS_KEPT = 1000;

/**
 * Keeps the SDK's own logs out of test output unless FTPIPE_TEST_LOGS is set: errors are printed, warnings (the
 * workflows' own included, through the worker's logger sink) kept for `sdkWarningsOf`.
 */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  if (process.env.FTPIPE_TEST_LOGS) return;
  const print = new DefaultLogger('ERROR');
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      if (entry.level === 'ERROR') return print.log(entry.level, entry.message, entry.meta);
      sdkWarnings.push(entry);
      sdkWarnings.splice(0, Math.max(0, sdkWarnings.length - SDK_WARNINGS_KEPT));
    }),
  });
}

/** The warnings the SDK logged in this process for one workflow (every run of its id); none kept under FTPIPE_TEST_LOGS. */
export function sdkWarningsOf(workflowId: string): string[] {
  return sdkWarnings.filter((entry) => entry.meta?.workflowId === workflowId).map((entry) => entry.message);
}

/**
 * The test run's one workflow bundle (scripts/run-tests.mjs makes it before the first test file starts), or the
 * sources when a test file runs on its own; either way the same workflow code.
 */
export function testWorkflowSource(): WorkflowSource {
  const bundle = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
  return bundle ? { workflowBundlePath: bundle } : { workflowsPath: require.resolve('../../workflows') };
}

/**
 * A test worker's workflow threads, unless the test sets them: one. Each thread loads the workflow bundle (outcomes.test.ts,
 * 9 workers: 62 CPU-s with the product's two, 40 with one), and a test's worker runs a few workflows at a time. The
 * product's default is what worker-options.test.ts checks.
 */
const TEST_WORKFLOW_THREADS = 1;

export type WorkerCreateOptions = { taskQueue: string; config?: WorkerConfig; env?: NodeJS.ProcessEnv } & Partial<Omit<FtpipeWorkerOptions, 'connection' | 'namespace' | 'deps'>>;

/**
 * The Temporal server a test file runs on. By default the test run's shared dev server (scripts/run-tests.mjs starts
 * it; a file run on its own without the runner gets a server of its own): tests stay apart by unique task queues,
 * workflow ids and run names. A file that restarts or kills the server, changes its dynamic config, needs its Web UI or
 * a namespace of its own, uses the default task queue, or changes namespace-wide state (worker deployments) asks for
 * its own server with `ownServer(why, options)`.
 */
export type TestServer = { own: false } | { own: true; why: string; options: DevServerOptions };

export const SHARED_SERVER: TestServer = { own: false };

export function ownServer(why: string, options: DevServerOptions = {}): TestServer {
  return { own: true, why, options };
}

/** The shared dev server's address, when the test runner started one. */
function sharedServer(): TemporalEndpoint | undefined {
  const address = process.env.FTPIPE_TEST_TEMPORAL_ADDRESS;
  return address ? { address, namespace: process.env.FTPIPE_TEST_TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE } : undefined;
}

export interface TemporalTestEnv {
  /** The file's local stack (src/stack/local-stack.ts), as `ftpipe dev`, the recorder and the benchmark build it. */
  services: LocalServices<TemporalEndpoint>;
  /** The server the file runs on (shared or its own). */
  server: TemporalEndpoint;
  /** The file's own dev server, for what only it may do (restart it, open its Web UI); throws on the shared one. */
  ownServer(): DevServer;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** A task queue unique to one test, so tests in a file never steal each other's tasks. */
  taskQueue(): string;
  createWorker(options: WorkerCreateOptions): Promise<FtpipeWorker>;
}

/**
 * Starts the local stack (the emulator when `emulator` is given, connections to the shared dev server or a server of
 * the file's own) before the file's tests and stops it after them. Returns a holder filled in by `before`.
 */
export function useTemporal(server: TestServer = SHARED_SERVER, emulator: EmulatorOptions | false = false): TemporalTestEnv {
  const env = {} as TemporalTestEnv;
  before(async () => {
    quietRuntime();
    const shared = server.own ? undefined : sharedServer();
    let own: DevServer | undefined;
    if (shared) {
      env.services = await startLocalServices({ temporal: shared, emulator });
    } else {
      const services = await startLocalServices({ server: testServerOptions(server.own ? server.options : {}), emulator });
      // Only a file that asked for its own server may restart it: alone it would pass, under the runner it would not.
      if (server.own) own = services.server;
      env.services = services;
    }
    env.server = env.services.server;
    env.ownServer = () => {
      if (!own) throw new Error('this test file runs on the shared dev server: give useTemporal/usePipelineStack ownServer(why, options) to have one of its own');
      return own;
    };
    env.connection = env.services.connection;
    env.nativeConnection = env.services.nativeConnection;
    env.client = env.services.client;
    env.taskQueue = () => `test-${randomUUID()}`;
    env.createWorker = async ({ taskQueue, config, env: processEnv, ...rest }) => {
      // Two files' workers on one queue would run each other's workflows against the wrong emulator.
      if (!server.own && taskQueue === TASK_QUEUE) throw new Error(`the default task queue "${TASK_QUEUE}" is for test files on a server of their own (ownServer(...)); use env.taskQueue()`);
      return env.services.createWorker({
        taskQueue,
        deps: {
          config: config ?? { profiles: [] },
          logger: createLogger({ level: process.env.FTPIPE_TEST_LOGS ? 'debug' : 'silent', destination: pino.destination(2) }),
          version: 'test',
          ...(processEnv ? { env: processEnv } : {}),
        },
        workflowSource: testWorkflowSource(),
        shutdownGraceTime: '1s',
        workflowThreads: TEST_WORKFLOW_THREADS,
        ...rest,
      });
    };
  });
  after(async () => {
    await env.services?.stop();
  });
  return env;
}
