/** All activities, built from the worker's dependencies. Workflows import this module by type only. */
import type { ActivityDeps } from './deps';
import { workerInfoActivities } from './worker-info';

export type { ActivityDeps } from './deps';
export type { WorkerDescription } from './worker-info';

export function createActivities(deps: ActivityDeps) {
  return {
    ...workerInfoActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
