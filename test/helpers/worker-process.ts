/** `ftpipe worker` in a process of its own, as production runs it, so that a test can kill it like a crashed machine. */
import { workerProcessEnv } from '../../workers/launcher';
import { spawnCli, type CliProcess } from './cli';
import type { PipelineTestEnv } from './pipeline';

/** Short timeouts so that work of a killed worker moves to the next one within seconds. */
export const CRASH_TIMEOUTS = { azureCallSeconds: 3, heartbeatSeconds: 3 };

/** Starts `ftpipe worker` on the file's server and task queue with the config at `configPath`; resolves once it serves. */
export async function startWorkerProcess(env: PipelineTestEnv, taskQueue: string, configPath: string): Promise<CliProcess> {
  // With ftpipe's process settings already in its environment `ftpipe worker` is the worker itself, not a launcher
  // with the worker as its child (workers/launcher.ts): the SIGKILL below must reach the process that runs the tasks.
  const worker = spawnCli(['worker', '--address', env.temporal.server.address, '--task-queue', taskQueue, '--config', configPath, '--shutdown-grace', '1s'], workerProcessEnv(env.workerEnv));
  await worker.waitFor(/"msg":"ftpipe worker started"/);
  return worker;
}

/** SIGKILL: no shutdown, no heartbeat, no answer to the tasks it holds. */
export async function killWorker(worker: CliProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  await worker.exited;
}
