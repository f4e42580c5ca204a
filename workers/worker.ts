/**
 * Builds the ftpipe worker: the workflows (prebuilt bundle in production, sources in development and tests) and the
 * activities, on the `fine-tuning` task queue, and beside them, in the same process, the dataset validations on
 * their own task queue (`fine-tuning-validation`) with a few slots: a validation waits in Temporal for a free slot,
 * holding none of the main queue's activity slots; and the resources' admission queues on theirs
 * (`fine-tuning-admission`), with workflow-task slots of their own: every run waits for a grant from one of them, so
 * their workflow tasks must not queue behind hundreds of runs' tasks.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Duration, PayloadCodec, VersioningBehavior } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import { createActivities, type ActivityDeps } from '../activities';
import { ftpipeDataConverter } from '../src/codec';
import { missingVariables } from '../activities/credentials';
import { datasetActivities } from '../activities/dataset';
import { withoutWorkflowStackTraces } from './stack-traces';
import { WORKFLOW_BUNDLER_OPTIONS } from '../src/stack/workflow-bundle';
import { admissionTaskQueue, TASK_QUEUE, validationTaskQueue } from '../src/temporal/constants';
import { WORKFLOW_INTERCEPTORS_MODULE, activityInterceptors, setupTracing, workflowSpanSinks, type Tracing } from '../src/telemetry/tracing';

export type WorkflowSource = { workflowBundlePath: string } | { workflowsPath: string };

/** The bundle `npm run build` writes next to the compiled worker, when this code runs compiled. */
export function builtWorkflowBundlePath(): string | undefined {
  if (!__filename.endsWith('.js')) return undefined;
  const path = join(__dirname, '..', 'workflow-bundle.js');
  return existsSync(path) ? path : undefined;
}

/**
 * Prebuilt bundle when there is one: `FTPIPE_WORKFLOW_BUNDLE` (a bundle made beforehand, e.g. the test run's for the
 * workers tests start from sources), else the one next to the compiled worker (production); else bundle the sources at
 * start (development).
 */
export function defaultWorkflowSource(): WorkflowSource {
  const bundle = process.env.FTPIPE_WORKFLOW_BUNDLE || builtWorkflowBundlePath();
  return bundle ? { workflowBundlePath: bundle } : { workflowsPath: require.resolve('../workflows') };
}

export interface FtpipeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  workflowSource?: WorkflowSource;
  /** How long in-flight activities may run on after shutdown begins (SIGTERM/SIGINT). */
  shutdownGraceTime?: Duration;
  identity?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxCachedWorkflows?: number;
  /**
   * The SDK's stack-trace promise hook in the runs' workflow threads (the Web UI's Stack Trace query); true by default.
   * False (`--workflow-stack-traces off`) saves its CPU and memory per run (workers/stack-traces.ts, docs/operations.md).
   */
  workflowStackTraces?: boolean;
  /** Threads that run workflow activations (the SDK's `workflowThreadPoolSize`); DEFAULT_WORKFLOW_THREADS by default. */
  workflowThreads?: number;
  /**
   * How long a task for a cached run waits on this worker's sticky queue before the server moves it to the normal
   * queue, where any worker takes it and replays the run's whole history (the SDK's `stickyQueueScheduleToStartTimeout`,
   * 10 s, kept by default: with 60 s, 150 runs started at once made a third of the replays at the same CPU, but a task
   * queued for a worker killed a moment later waited the 60 s out, which stalled the crash tests' runs past their bounds).
   */
  stickyQueueScheduleToStartTimeout?: Duration;
  /** Share of workflow-task pollers on the normal queue vs the sticky one (the SDK's `nonStickyToStickyPollRatio`). */
  nonStickyToStickyPollRatio?: number;
  /** Validations run at once (slots of the validation task queue); DEFAULT_CONCURRENT_VALIDATIONS by default. */
  maxConcurrentValidations?: number;
  /** Where workflow spans go; the process's tracing (`setupTracing`, off unless OTLP is configured) when omitted. */
  tracing?: Tracing;
  /**
   * Worker Versioning: this worker is build `buildId` of the Worker Deployment `deploymentName`, and workflows it
   * starts get `defaultVersioningBehavior` (see docs/operations.md, "Shipping new workflow code"). Unversioned
   * without it.
   */
  deployment?: WorkerDeployment;
  /** Encrypts every payload the worker writes, failures' messages included (see src/codec); plain JSON without one. */
  payloadCodec?: PayloadCodec;
}

export interface WorkerDeployment {
  deploymentName: string;
  buildId: string;
  /** PINNED (default): a run stays on the build it started on; AUTO_UPGRADE: it moves to the current build. */
  defaultVersioningBehavior?: VersioningBehavior;
}

/** The SDK's deployment options of both Temporal workers of one process: one version, polling both task queues. */
function workerDeploymentOptions(deployment: WorkerDeployment) {
  return {
    version: { deploymentName: deployment.deploymentName, buildId: deployment.buildId },
    useWorkerVersioning: true as const,
    defaultVersioningBehavior: deployment.defaultVersioningBehavior ?? 'PINNED',
  };
}

/** Warns, once at start, about each profile whose credential variables are not set: its runs would fail in preflight. */
export function warnMissingCredentials(deps: ActivityDeps): void {
  const env = deps.env ?? process.env;
  for (const profile of deps.config.profiles) {
    const missing = missingVariables(profile, env);
    if (missing.length === 0) continue;
    deps.logger.warn(
      { profile: profile.name, missing: missing.map((m) => `${m.variable} (${m.plane})`) },
      `Azure profile "${profile.name}": environment variable${missing.length > 1 ? 's' : ''} ${missing.map((m) => m.variable).join(', ')} not set; its runs will fail in preflight`,
    );
  }
}

/**
 * Validations run at once per worker process. Small files are checked on the main thread, large ones share the
 * process's tokenizer threads (one per core), so a few at a time keep the cores busy without queueing in memory.
 */
export const DEFAULT_CONCURRENT_VALIDATIONS = 2;

/**
 * Workflow threads and workflow-task slots when the caller sets none. The SDK runs activations one at a time per
 * workflow thread; its default of 40 slots in front of one thread held tasks in the worker past the server's 10 s
 * workflow-task timeout once activations took 0.3 s (500 runs on a loaded machine): every such task came back as a
 * full replay on the normal queue, and the admission queue's first task waited there 10 minutes. Four slots per thread
 * keep one task in hand while another runs; two threads use two cores. Tasks beyond them wait in the server (a sticky
 * one moves to the normal queue after 10 s and is replayed there: 1,287 times in the 500-run bench, which then
 * finished every run; with 40 slots none passed await_slot in 650 s).
 */
const DEFAULT_WORKFLOW_THREADS = Math.min(2, availableParallelism());
const WORKFLOW_TASK_SLOTS_PER_THREAD = 4;

/**
 * How long one workflow activation may run on the workflow thread before the SDK stops it (the SDK's
 * `isolateExecutionTimeout`, 5 s by default, which its types do not expose). It is wall time: on a CPU-starved machine
 * an ordinary activation passes 5 s, and Node's vm timeout firing while the activation's microtasks run corrupts the
 * thread's async-hook stack and kills the whole worker process (nodejs/node#38503, temporalio/sdk-typescript#939):
 * the 500-run bench crashed so twice. A task that outlives the server's 10 s workflow-task timeout is retried, which a
 * worker survives; only code that never yields (a bug) is stopped, 30 s in instead of 5.
 */
const ACTIVATION_TIMEOUT: Partial<WorkerOptions> = { isolateExecutionTimeout: '30 seconds' } as Partial<WorkerOptions>;

/**
 * The admission queues' worker: a few task slots of its own, so a queue's task waits for no run's, and a small cache
 * (one queue per Azure resource and task queue). Its workflows run on the process's main thread (the SDK's
 * `debugMode`; the main worker's runs keep their threads): a workflow thread of its own cost 95 MB of idle RSS (the
 * bundle in a new isolate), the main thread 30 MB. A queue's task is small and bounded (workflows/admission.ts: its
 * cost does not grow with the number of runs, about 40 ms), so activities hardly wait behind it.
 */
const ADMISSION_WORKFLOW_TASK_SLOTS = 2;
const ADMISSION_CACHED_WORKFLOWS = 100;

/**
 * Takes the SDK's stack-trace hooks off the process's main thread once the admission worker (debugMode) installed them.
 * Its promise hook (`@temporalio/worker` 1.24 vm-shared.js) is isolate-wide: on the main thread it ran for every promise
 * of the activities, the openai client and the SDK, ~13% of the main thread's busy CPU (0.055 CPU-s per run, session 24
 * profile); it serves only the Web UI's stack-trace query, which for the admission queues now answers "not enabled"
 * (the SDK's own path where V8 has no promise hooks). The runs' workflow threads keep theirs. Called after every
 * admission worker's creation (each installs them again); workflows created after it ask for no stack traces.
 */
function dropMainThreadStackTraceHooks(): void {
  globalHandlers.uninstall();
  globalHandlers.promiseHookInstalled = false;
}

/**
 * The three Temporal workers of one ftpipe worker process, run together. They stop in order: the main worker first,
 * the admission worker once the main one has stopped. A run's join of its admission queue is a local activity of the
 * main worker that waits for the queue's answer (an update, workflows/slots.ts), and the main worker's shutdown waits
 * for its local activities; stopped together, the admission worker could be gone before it answered, and the
 * process never finished stopping (a test file hung so at load 18).
 */
export class FtpipeWorker {
  private mainRun: Promise<void> | undefined;
  private admissionStopScheduled = false;

  constructor(
    /** Workflows and every activity, on the main task queue (admission queues started before they had their own too). */
    readonly main: Worker,
    /** Dataset validations only, on the validation task queue. */
    readonly validation: Worker,
    /** The admission queues' workflows and their one activity, on the admission task queue. */
    readonly admission: Worker,
  ) {}

  /** Runs all until shut down; if one fails, the others are shut down too, and the failure is thrown. */
  async run(): Promise<void> {
    this.mainRun = this.main.run();
    const runs = [this.mainRun, this.validation.run(), this.admission.run()];
    for (const run of runs) run.catch(() => this.shutdown());
    await Promise.all(runs);
  }

  /** Starts graceful shutdown (in-flight activities get the shutdown grace time): the admission worker's once the main worker has stopped. */
  shutdown(): void {
    for (const worker of [this.main, this.validation]) if (worker.getState() === 'RUNNING') worker.shutdown();
    if (this.admissionStopScheduled) return;
    this.admissionStopScheduled = true;
    const stopAdmission = (): void => {
      if (this.admission.getState() === 'RUNNING') this.admission.shutdown();
    };
    if (this.mainRun) void this.mainRun.then(stopAdmission, stopAdmission);
    else stopAdmission();
  }

  /** Runs all while `work` runs, then shuts them down; like `Worker.runUntil`. */
  async runUntil<R>(workOrStart: Promise<R> | (() => Promise<R>)): Promise<R> {
    const running = this.run();
    try {
      const work = typeof workOrStart === 'function' ? workOrStart() : workOrStart;
      return await Promise.race([work, running.then(() => Promise.reject(new Error('the worker stopped before the work finished')))]);
    } finally {
      this.shutdown();
      await running;
    }
  }
}

export async function createFtpipeWorker(options: FtpipeWorkerOptions): Promise<FtpipeWorker> {
  warnMissingCredentials(options.deps);
  const source = options.workflowSource ?? defaultWorkflowSource();
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const tracing = options.tracing ?? setupTracing({ serviceName: 'ftpipe-worker' });
  const workflowThreads = options.workflowThreads ?? DEFAULT_WORKFLOW_THREADS;
  const shared = {
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: ftpipeDataConverter(options.payloadCodec),
    // The SDK's Duration type comes from `ms`, whose template-literal types typescript-eslint cannot resolve.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.deployment ? { workerDeploymentOptions: workerDeploymentOptions(options.deployment) } : {}),
  };
  const workflows = {
    ...ACTIVATION_TIMEOUT,
    ...('workflowBundlePath' in source
      ? { workflowBundle: { codePath: source.workflowBundlePath } }
      : { workflowsPath: source.workflowsPath, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS }),
    // The workflow interceptors are always on (a prebuilt bundle has them compiled in), so every worker runs the same
    // workflow code whether or not it exports spans.
    interceptors: { activity: [activityInterceptors], ...('workflowsPath' in source ? { workflowModules: [WORKFLOW_INTERCEPTORS_MODULE] } : {}) },
    sinks: workflowSpanSinks(tracing),
  };
  const activities = createActivities(options.deps);
  const createMain = (): Promise<Worker> => Worker.create({
    ...shared,
    ...workflows,
    taskQueue,
    // validateTrainingData stays here too, for runs that scheduled it on this queue before validations had their own;
    // so do the admission queues' workflow and activity, for queues started on this queue before they had their own.
    activities,
    ...(options.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions } : {}),
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? workflowThreads * WORKFLOW_TASK_SLOTS_PER_THREAD,
    ...(options.maxCachedWorkflows ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    ...(options.stickyQueueScheduleToStartTimeout !== undefined ? { stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeout } : {}),
    ...(options.nonStickyToStickyPollRatio !== undefined ? { nonStickyToStickyPollRatio: options.nonStickyToStickyPollRatio } : {}),
    workflowThreadPoolSize: workflowThreads,
  });
  const main = options.workflowStackTraces === false ? await withoutWorkflowStackTraces(createMain) : await createMain();
  const validation = await Worker.create({
    ...shared,
    taskQueue: validationTaskQueue(taskQueue),
    activities: datasetActivities(options.deps),
    interceptors: { activity: [activityInterceptors] },
    maxConcurrentActivityTaskExecutions: options.maxConcurrentValidations ?? DEFAULT_CONCURRENT_VALIDATIONS,
  });
  const admission = await Worker.create({
    ...shared,
    ...workflows,
    taskQueue: admissionTaskQueue(taskQueue),
    activities: { closedWorkflows: activities.closedWorkflows.bind(activities) },
    maxConcurrentWorkflowTaskExecutions: ADMISSION_WORKFLOW_TASK_SLOTS,
    maxCachedWorkflows: ADMISSION_CACHED_WORKFLOWS,
    debugMode: true,
  });
  dropMainThreadStackTraceHooks();
  return new FtpipeWorker(main, validation, admission);
}
