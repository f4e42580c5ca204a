/** `ftpipe dev`, `ftpipe worker`, `ftpipe demo`, `ftpipe doctor`: running ftpipe locally and in production. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import { ftpipeDataConverter, payloadCodecFromEnv } from '../../codec';
import { checkProfileCatalogs, loadWorkerConfig } from '../../config/worker-config';
import { createLogger } from '../../logging';
import { packageRoot, packageVersion, stateDir } from '../../paths';
import { createOpenAIClient } from '../../azure/clients';
import { renderReport } from '../../report/html';
import { emulatorProfiles } from '../../stack/emulator-profiles';
import { startLocalStack } from '../../stack/local-stack';
import { DEFAULT_TEMPORAL_ADDRESS, TASK_QUEUE } from '../../temporal/constants';
import { temporalTargetFromEnv, temporalUnreachable } from '../../temporal/connection';
import { createFtpipeWorker, DEFAULT_CONCURRENT_VALIDATIONS } from '../../../workers/worker';
import { installRuntime } from '../../../workers/runtime';
import { shutDownOnSignals } from '../../../workers/shutdown';
import { WorkerDeploymentError, workerDeploymentFrom } from '../../../workers/deployment';
import { WorkflowStackTracesError, workflowStackTracesFrom } from '../../../workers/stack-traces';
import type { checkWorker } from '../../../workflows';
import { CHECK_WORKER_WORKFLOW_TYPE, PIPELINE_WORKFLOW_TYPE } from '../../../workflows/messages';
import { loadCatalog } from '../../catalog';
import { defaultWorkflowId, FtpipeClient } from '../../client';
import { connectionOverrides, withConnectionFlags, type ConnectionFlags } from '../connection';
import { checkDevPorts, claimDevHome, DevUsageError, refusedUsage } from '../../dev/ports';
import { freePort } from '../../devserver/free-port';
import { parseClockScale, parsePort, parsePositiveInt, parseSeconds } from '../usage';
import { doctorProfiles } from './doctor-profile';
import { formatResult, readPipelineFile } from './runs';

interface DevOptions {
  port: number;
  uiPort: number;
  emulatorPort: number;
  emulatorArmPort: number;
  codecPort: number;
  config?: string;
  emulator: boolean;
  clockScale: number;
  uiCodecEndpoint?: string;
}

/**
 * Before anything starts: flags that cannot apply, the state folder (one dev stack per folder), then the ports (each
 * free and its own), so that a second stack beside a first is refused in one line instead of failing half-started.
 */
async function claimDevStack(home: string, opts: DevOptions): Promise<() => void> {
  if (!opts.emulator && (opts.emulatorPort || opts.emulatorArmPort)) {
    throw new DevUsageError(`${opts.emulatorPort ? '--emulator-port' : '--emulator-arm-port'}: there is no emulator with --no-emulator`);
  }
  if (opts.uiCodecEndpoint && opts.codecPort) throw new DevUsageError('--codec-port: no codec server is started with --ui-codec-endpoint');
  mkdirSync(home, { recursive: true });
  const release = claimDevHome(home);
  try {
    await checkDevPorts([
      { flag: '--port', port: opts.port },
      { flag: '--ui-port', port: opts.uiPort },
      ...(opts.emulator ? [{ flag: '--emulator-port', port: opts.emulatorPort }, { flag: '--emulator-arm-port', port: opts.emulatorArmPort }] : []),
      ...(opts.uiCodecEndpoint ? [] : [{ flag: '--codec-port', port: opts.codecPort }]),
    ]);
  } catch (err) {
    release();
    throw err;
  }
  return release;
}

/** The demo's pipeline, in a clone (the npm package leaves examples/ out). */
const DEMO_PIPELINE = join(packageRoot(), 'examples', 'demo-pipeline.yaml');

/**
 * A worker's configuration and catalogue, each profile's own catalogue entries checked against the catalogue at start
 * (a bad entry names the file's line), not first at the preflight of each of its runs.
 */
async function workerConfigWithCatalog(path: string | undefined): Promise<{ config: ReturnType<typeof loadWorkerConfig>; catalog: Awaited<ReturnType<typeof loadCatalog>> }> {
  const config = loadWorkerConfig(path);
  const catalog = await loadCatalog();
  checkProfileCatalogs(config, catalog, path);
  return { config, catalog };
}

export function registerDevCommands(program: Command): void {
  program
    .command('dev')
    .description('Start a local Temporal dev server with its Web UI, and an ftpipe worker; Ctrl-C stops everything')
    .option('--port <port>', 'Temporal gRPC port; 0 picks a free one', parsePort, 7233)
    .option('--ui-port <port>', 'Web UI port; 0 picks a free one', parsePort, 8233)
    .option('--emulator-port <port>', 'the Azure emulator\'s data-plane (http) port; 0 picks a free one', parsePort, 0)
    .option('--emulator-arm-port <port>', 'the Azure emulator\'s ARM (https) port; 0 picks a free one', parsePort, 0)
    .option('--codec-port <port>', 'the port of the codec server started for the Web UI; 0 picks a free one', parsePort, 0)
    .option('--config <file>', 'worker configuration (profiles); default $FTPIPE_CONFIG')
    .option('--no-emulator', 'do not start the embedded Azure emulator')
    .option('--clock-scale <n>', 'emulated seconds per real second in the emulator', parseClockScale, 100)
    .option('--ui-codec-endpoint <url>', 'the Web UI\'s codec server (default: one started here, with the keys of FTPIPE_CODEC_KEYS / FTPIPE_CODEC_KEY_FILE or .ftpipe/dev/codec-keys.json)')
    .action(async (opts: DevOptions) => {
      const home = join(stateDir(), 'dev');
      let release: () => void;
      try {
        release = await claimDevStack(home, opts);
      } catch (err) {
        if (refusedUsage('dev', err)) return;
        throw err;
      }
      let stack;
      try {
        stack = await startLocalStack({
          home,
          config: (await workerConfigWithCatalog(opts.config)).config,
          persistent: true,
          port: opts.port || (await freePort()),
          uiPort: opts.uiPort || (await freePort()),
          emulator: opts.emulator ? { clockScale: opts.clockScale, port: opts.emulatorPort, armPort: opts.emulatorArmPort } : false,
          codecKeyFile: join(home, 'codec-keys.json'),
          codecPort: opts.codecPort,
          ...(opts.uiCodecEndpoint ? { uiCodecEndpoint: opts.uiCodecEndpoint } : {}),
        });
      } catch (err) {
        release();
        throw err;
      }
      const ui = stack.server.uiUrl ?? '';
      const ns = stack.server.namespace;
      console.log(`ftpipe dev: Temporal ${stack.server.address} (namespace ${ns}), worker on task queue "${TASK_QUEUE}"`);
      console.log(`  Web UI:       ${ui}`);
      console.log(`  ftpipe runs:  ${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent(`TaskQueue="${TASK_QUEUE}"`)}`);
      console.log(`  start a run:  ${ui}/namespaces/${ns}/workflows/start-workflow?workflowType=${PIPELINE_WORKFLOW_TYPE}&taskQueue=${TASK_QUEUE}`);
      if (stack.emulator) {
        console.log(`  emulator:     ${stack.emulator.dataPlaneUrl} (ARM ${stack.emulator.armEndpoint}), clock x${opts.clockScale}; profiles: ${stack.config.profiles.map((p) => p.name).join(', ')}`);
      }
      // What the ftpipe commands of a second shell need to reach this stack: its keys, and its address unless theirs is it.
      const ownKeys = Boolean(process.env.FTPIPE_CODEC_KEYS || process.env.FTPIPE_CODEC_KEY_FILE);
      const exports = [
        ...(ownKeys ? [] : [`FTPIPE_CODEC_KEY_FILE=${join(home, 'codec-keys.json')}`]),
        ...((process.env.TEMPORAL_ADDRESS || DEFAULT_TEMPORAL_ADDRESS) === stack.server.address ? [] : [`TEMPORAL_ADDRESS=${stack.server.address}`]),
      ];
      const needs = [...(ownKeys ? ['use your FTPIPE_CODEC_* setting'] : []), ...(exports.length > 0 ? [`export ${exports.join(' ')}`] : [])];
      console.log(`  payloads:     encrypted (AES-GCM); Web UI codec ${opts.uiCodecEndpoint ?? stack.codecServer?.url ?? ''}; other ftpipe commands: ${needs.join('; ')}`);
      console.log(`  state:        ${home} (database temporal.sqlite, logs worker.log and temporal.log)`);
      console.log('  Ctrl-C stops the worker, then the server and the emulator.');
      try {
        await stack.runUntilShutdown();
      } finally {
        release();
      }
      console.log('ftpipe dev: stopped');
    });

  withConnectionFlags(program.command('worker'))
    .description('Run an ftpipe worker against any Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*)')
    .option('--config <file>', 'worker configuration (profiles); default $FTPIPE_CONFIG')
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--metrics <host:port>', 'serve Prometheus metrics at this address (e.g. 0.0.0.0:9464)')
    .option('--shutdown-grace <duration>', 'how long in-flight activities may finish after SIGTERM/SIGINT', '30s')
    .option('--max-cached-workflows <n>', 'workflows kept in memory between tasks (bounds memory with many concurrent runs; the SDK sizes it from the heap by default)', parsePositiveInt)
    .option('--max-concurrent-activities <n>', 'activities run at once', parsePositiveInt)
    .option('--max-concurrent-validations <n>', `dataset validations run at once (CPU-heavy, on their own task queue; default: the configuration's maxConcurrentValidations, else ${DEFAULT_CONCURRENT_VALIDATIONS})`, parsePositiveInt)
    .option('--deployment-name <name>', 'Worker Versioning: the Worker Deployment this worker belongs to (default $FTPIPE_DEPLOYMENT_NAME)')
    .option('--build-id <id>', 'Worker Versioning: this worker\'s build of it (default $FTPIPE_BUILD_ID)')
    .option('--default-versioning <behavior>', 'pinned (a run stays on the build it started on) or auto-upgrade (default $FTPIPE_DEFAULT_VERSIONING, else pinned)')
    .option('--workflow-stack-traces <on|off>', 'off: no stack traces for the Web UI\'s Stack Trace query, for less worker CPU and memory per run (default $FTPIPE_WORKFLOW_STACK_TRACES, else on; docs/operations.md)')
    .action(async (opts: ConnectionFlags & { config?: string; workflowStackTraces?: string; taskQueue: string; metrics?: string; shutdownGrace: string; maxCachedWorkflows?: number; maxConcurrentActivities?: number; maxConcurrentValidations?: number; deploymentName?: string; buildId?: string; defaultVersioning?: string }, cmd: Command) => {
      let deployment;
      let workflowStackTraces;
      try {
        deployment = workerDeploymentFrom(opts);
        workflowStackTraces = workflowStackTracesFrom(opts.workflowStackTraces);
      } catch (err) {
        if (err instanceof WorkerDeploymentError || err instanceof WorkflowStackTracesError) cmd.error(`ftpipe worker: ${err.message}`, { exitCode: 2 });
        throw err;
      }
      const logger = createLogger();
      const { config, catalog } = await workerConfigWithCatalog(opts.config);
      const maxConcurrentValidations = opts.maxConcurrentValidations ?? config.maxConcurrentValidations ?? DEFAULT_CONCURRENT_VALIDATIONS;
      const target = temporalTargetFromEnv(process.env, connectionOverrides(opts));
      installRuntime({ logger, ...(opts.metrics ? { metricsAddress: opts.metrics } : {}) });
      const connection = await NativeConnection.connect(target.connectionOptions).catch((err: unknown) => {
        throw temporalUnreachable(target, err);
      });
      const payloadCodec = payloadCodecFromEnv();
      const worker = await createFtpipeWorker({
        connection,
        namespace: target.namespace,
        taskQueue: opts.taskQueue,
        deps: { config, logger, version: packageVersion(), catalog },
        shutdownGraceTime: opts.shutdownGrace,
        ...(payloadCodec ? { payloadCodec } : {}),
        ...(deployment ? { deployment } : {}),
        ...(opts.maxCachedWorkflows ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
        ...(opts.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities } : {}),
        maxConcurrentValidations,
        workflowStackTraces,
      });
      shutDownOnSignals(worker, { log: { logger, shutdownGrace: opts.shutdownGrace }, laterSignals: 'logged' });
      logger.info({ address: target.address, namespace: target.namespace, taskQueue: opts.taskQueue, maxConcurrentValidations, profiles: config.profiles.map((p) => p.name), metrics: opts.metrics ?? null, encryptedPayloads: payloadCodec !== undefined, deployment: deployment ?? null, mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null, workflowStackTraces }, 'ftpipe worker started');
      try {
        await worker.run();
      } finally {
        await connection.close();
        logger.info('ftpipe worker stopped');
        logger.flush();
      }
    });

  withConnectionFlags(program.command('doctor'))
    .description('Check that an ftpipe worker serves the task queue, by running a one-activity workflow; with --profile, check Azure profiles instead')
    .option('--timeout <seconds>', 'give up after this many seconds', parseSeconds, 30)
    .option('--task-queue <name>', 'the task queue the worker serves', TASK_QUEUE)
    .option('--profile <name...>', 'check these Azure profiles of the worker configuration: variables, token lifetimes, region, one data-plane and one ARM read each (run it where the worker runs)')
    .option('--config <file>', 'the worker configuration with the profiles (default $FTPIPE_CONFIG)')
    .action(async (opts: ConnectionFlags & { timeout: number; taskQueue: string; profile?: string[]; config?: string }) => {
      if (opts.profile) {
        if (!(await doctorProfiles(opts.profile, opts.config))) process.exitCode = 1;
        return;
      }
      const target = temporalTargetFromEnv(process.env, connectionOverrides(opts));
      const connection = await Connection.connect(target.connectionOptions).catch((err: unknown) => {
        throw temporalUnreachable(target, err);
      });
      try {
        const client = new Client({ connection, namespace: target.namespace, dataConverter: ftpipeDataConverter(payloadCodecFromEnv()) });
        const { worker } = await client.workflow.execute<typeof checkWorker>(CHECK_WORKER_WORKFLOW_TYPE, {
          taskQueue: opts.taskQueue,
          workflowId: `ftpipe-doctor-${Date.now()}`,
          args: [{ note: 'ftpipe doctor' }],
          workflowExecutionTimeout: `${opts.timeout}s`,
        }).catch((err: unknown) => {
          if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) {
            throw new Error(`no worker answered on task queue "${opts.taskQueue}" of ${target.address}/${target.namespace} within ${opts.timeout} s: start one there (ftpipe worker --task-queue ${opts.taskQueue}), or check --address, --namespace and --task-queue`);
          }
          throw err;
        });
        console.log(`ok: a worker (ftpipe ${worker.ftpipeVersion}, Node ${worker.nodeVersion}) serves "${worker.taskQueue}" on ${target.address}/${target.namespace}; profiles: ${worker.profiles.join(', ') || '(none)'}`);
      } finally {
        await connection.close();
      }
    });

  program
    .command('demo')
    .description('Run the demo pipeline end to end on an embedded Temporal dev server and Azure emulator; exits 0 when it succeeded')
    .option('--pipeline <file>', 'the pipeline file to run', DEMO_PIPELINE)
    .option('--clock-scale <n>', 'emulated seconds per real second in the emulator', parseClockScale, 200)
    .option('--port <port>', 'Temporal gRPC port; 0 picks a free one', parsePort, 0)
    .option('--emulator-port <port>', 'the Azure emulator\'s data-plane (http) port; 0 picks a free one', parsePort, 0)
    .option('--emulator-arm-port <port>', 'the Azure emulator\'s ARM (https) port; 0 picks a free one', parsePort, 0)
    .action(async (opts: { pipeline: string; clockScale: number; port: number; emulatorPort: number; emulatorArmPort: number }) => {
      const home = join(stateDir(), 'demo');
      if (opts.pipeline === DEMO_PIPELINE && !existsSync(DEMO_PIPELINE)) {
        console.error('ftpipe demo: this install of ftpipe has no examples/ (the npm package carries bin/ and dist/ only, and no Temporal CLI): run the demo in a clone of ftpipe (npm ci && npm start)');
        process.exitCode = 1;
        return;
      }
      const input = readPipelineFile(opts.pipeline);
      try {
        await checkDevPorts([
          { flag: '--port', port: opts.port },
          { flag: '--emulator-port', port: opts.emulatorPort },
          { flag: '--emulator-arm-port', port: opts.emulatorArmPort },
        ]);
      } catch (err) {
        if (refusedUsage('demo', err)) return;
        throw err;
      }
      const stack = await startLocalStack({
        home,
        config: loadWorkerConfig(),
        persistent: false,
        ...(opts.port ? { port: opts.port } : {}),
        emulator: { clockScale: opts.clockScale, port: opts.emulatorPort, armPort: opts.emulatorArmPort },
      });
      console.log(`demo: Temporal dev server ${stack.server.address}, Azure emulator ${stack.emulator?.dataPlaneUrl ?? ''} (ARM ${stack.emulator?.armEndpoint ?? ''}, clock x${opts.clockScale}), worker on "${TASK_QUEUE}"; logs in ${home}`);
      const client = new FtpipeClient(stack.client);
      // On Ctrl-C runWith stops the worker (workers/shutdown.ts shutDownOnSignals) and ends with "the worker stopped ...": say it plainly.
      let stoppedBy: NodeJS.Signals | undefined;
      const noteSignal = (signal: NodeJS.Signals): void => {
        stoppedBy ??= signal;
      };
      process.once('SIGINT', noteSignal).once('SIGTERM', noteSignal);
      const result = await stack.runWith(async () => {
        const run = await client.startPipeline(input, { workflowId: `${defaultWorkflowId(String(input.runName))}-${Date.now()}` });
        console.log(`demo: started ${run.workflowId}`);
        let lastStage = '';
        for await (const status of run.watch({ intervalMs: 500 })) {
          const progress = status.progress.totalSteps ? ` step ${status.progress.step ?? 0}/${status.progress.totalSteps}` : '';
          const line = `${status.stage}${status.job ? ` (job ${status.job.status})` : ''}${progress}`;
          if (line !== lastStage) console.log(`demo: ${line}`);
          lastStage = line;
        }
        const finished = await run.result();
        console.log(formatResult(finished));
        if (finished.outcome !== 'succeeded' || !finished.report) throw new Error('the demo run did not succeed');
        // The new deployment answers through the real client, as an application would call it.
        const deployment = finished.deployments[0];
        const profile = stack.config.profiles.find((p) => p.name === deployment?.profile);
        if (!deployment || !profile || !stack.emulator) throw new Error('the demo run deployed nothing');
        const question = 'How often should I oil my chain?';
        const answer = await createOpenAIClient(profile, { ...process.env, ...emulatorProfiles(stack.emulator).env }).chat.completions.create({
          model: deployment.name,
          messages: [{ role: 'user', content: question }],
        });
        console.log(`demo: asked ${deployment.name} "${question}" -> "${answer.choices[0]?.message.content ?? ''}"`);
        return finished;
      }).catch((err: unknown) => {
        if (!stoppedBy) throw err;
        return undefined;
      });
      if (!result) {
        console.error(`demo: stopped by ${stoppedBy ?? 'a signal'} before the run finished; its dev server and emulator have stopped too (their state was in memory; logs in ${home})`);
        // Everything has stopped; the abandoned watch's query still retries on the closed connection, and its next try
        // would throw "Channel has been shut down" from a timer: end here.
        process.exit(128 + (osConstants.signals[stoppedBy ?? 'SIGINT'] ?? 2));
      }
      const reportPath = join(home, 'report.html');
      writeFileSync(reportPath, renderReport(result.report!));
      console.log(`demo: report ${reportPath}`);
      console.log('demo: succeeded');
    });
}
