import type { Logger } from '../src/logging';
import type { WorkerConfig } from '../src/config/worker-config';

/** What activities get from the worker that hosts them: configuration (profiles), logging, identity. */
export interface ActivityDeps {
  config: WorkerConfig;
  logger: Logger;
  version: string;
}
