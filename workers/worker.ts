/**
 * Builds the ftpipe worker: the workflows (prebuilt bundle in production, sources in development and tests) and the
 * activities, on the `fine-tuning` task queue.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { missingVariables } from '../activities/credentials';
import { TASK_QUEUE } from '../src/temporal/constants';

export type WorkflowSource = { workflowBundlePath: string } | { workflowsPath: string };

/** The bundle `npm run build` writes next to the compiled worker, when this code runs compiled. */
export function builtWorkflowBundlePath(): string | undefined {
  if (!__filename.endsWith('.js')) return undefined;
  const path = join(__dirname, '..', 'workflow-bundle.js');
  return existsSync(path) ? path : undefined;
}

/** Prebuilt bundle when there is one (production), else bundle the sources at start (development, tests). */
export function defaultWorkflowSource(): WorkflowSource {
  const bundle = builtWorkflowBundlePath();
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

export async function createFtpipeWorker(options: FtpipeWorkerOptions): Promise<Worker> {
  warnMissingCredentials(options.deps);
  const source = options.workflowSource ?? defaultWorkflowSource();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...('workflowBundlePath' in source ? { workflowBundle: { codePath: source.workflowBundlePath } } : { workflowsPath: source.workflowsPath }),
    activities: createActivities(options.deps),
    // The SDK's Duration type comes from `ms`, whose template-literal types typescript-eslint cannot resolve.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions } : {}),
    ...(options.maxConcurrentWorkflowTaskExecutions ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions } : {}),
    ...(options.maxCachedWorkflows ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
}
