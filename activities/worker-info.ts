import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';

export interface WorkerDescription {
  ftpipeVersion: string;
  nodeVersion: string;
  taskQueue: string;
  /** Names of the Azure profiles this worker can use (never their credentials). */
  profiles: string[];
}

export function workerInfoActivities(deps: ActivityDeps) {
  return {
    async describeWorker(_input: Record<string, never>): Promise<WorkerDescription> {
      return {
        ftpipeVersion: deps.version,
        nodeVersion: process.version,
        taskQueue: Context.current().info.taskQueue,
        profiles: deps.config.profiles.map((p) => p.name),
      };
    },
  };
}
