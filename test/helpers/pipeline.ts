/** Pipeline test harness: the real Temporal dev server, ftpipe's Azure emulator on a fast clock, workers wired to both. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { WorkerConfig } from '../../src/config/worker-config';
import type { FtpipeWorker } from '../../workers/worker';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import type { PipelineStatus } from '../../src/pipeline/types';
import { EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import type { fineTunePipeline } from '../../workflows';
import { PIPELINE_WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import { ROOT } from './cli';
import { isNondeterminism, saveHistory } from './history-evidence';
import { SHARED_SERVER, useTemporal, type TemporalTestEnv, type TestServer } from './temporal';

export const SAMPLE_TRAINING = join(ROOT, 'examples', 'data', 'bike-shop-train.jsonl');
export const SAMPLE_VALIDATION = join(ROOT, 'examples', 'data', 'bike-shop-validation.jsonl');

/** A dataset file of its own (the sample plus one unique example), so a run uploads it rather than reusing an earlier upload. */
export function uniqueTrainingFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-data-'));
  const unique = JSON.stringify({ messages: [{ role: 'user', content: `Ticket ${randomUUID()}: is my bike ready?` }, { role: 'assistant', content: 'Yes, it is ready for pick-up.' }] });
  writeFileSync(join(dir, 'train.jsonl'), `${readFileSync(SAMPLE_TRAINING, 'utf8')}${unique}\n`);
  return join(dir, 'train.jsonl');
}

/** Poll fast: the emulator's clock runs ~1000x, so a 3-epoch job takes a couple of real seconds. */
export const FAST_POLLING = { queuedIntervalSeconds: 0.2, runningIntervalSeconds: 0.2, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, deploymentIntervalSeconds: 0.1 };

/**
 * Azure's waits before a job trains (each file's processing, the job's validation and queue: 450 emulated s) made
 * short, for a file whose clock runs slow so that it can watch or steer the job while it trains, never while it waits
 * to: at 25x they took 18 s of each run.
 */
export const SHORT_PREPARATION = { fileProcessingSeconds: 2, jobValidationSeconds: 5, jobQueueSeconds: 5 };

export interface PipelineTestEnv {
  temporal: TemporalTestEnv;
  emulator: RunningEmulator;
  config: WorkerConfig;
  /** The worker's environment: the test process's, plus the emulator's credentials. */
  workerEnv: NodeJS.ProcessEnv;
  createWorker(taskQueue: string): Promise<FtpipeWorker>;
  /** A minimal valid input on the sample dataset, with `overrides` merged in. */
  input(overrides?: Partial<PipelineInputDraft>): PipelineInputDraft;
  start(taskQueue: string, input: PipelineInputDraft, workflowId?: string): Promise<WorkflowHandle<typeof fineTunePipeline>>;
  /**
   * Waits until the run's status satisfies `predicate` (polls the `status` query). Without `timeoutMs` it waits as long
   * as the test may run (its timeout, set by scripts/run-tests.mjs), not for a guess of how slow a loaded machine is.
   */
  waitForStatus(handle: WorkflowHandle, predicate: (status: PipelineStatus) => boolean, timeoutMs?: number): Promise<PipelineStatus>;
}

/** The emulator (a fresh one per call) on a fast clock, on the shared dev server unless `server` is `ownServer(...)`. */
export function usePipelineStack(emulatorOptions: EmulatorOptions = {}, server: TestServer = SHARED_SERVER): PipelineTestEnv {
  const temporal = useTemporal(server, { clockScale: 1000, ...emulatorOptions });
  const env = { temporal } as PipelineTestEnv;
  before(() => {
    env.emulator = temporal.services.emulator!;
    const { profiles, credentials } = temporal.services;
    // Tests write their datasets under the system's temporary directory; the samples are in the project.
    env.config = { profiles, dataRoots: [ROOT, tmpdir()] };
    env.workerEnv = { ...process.env, ...credentials };
    env.createWorker = (taskQueue) => temporal.createWorker({ taskQueue, config: env.config, env: env.workerEnv });
    env.input = (overrides = {}) => ({
      runName: `test-${randomUUID().slice(0, 8)}`,
      profile: EMULATOR_PROFILE,
      baseModel: 'gpt-4.1-mini',
      training: { path: SAMPLE_TRAINING },
      validation: { path: SAMPLE_VALIDATION },
      seed: 42,
      polling: FAST_POLLING,
      ...overrides,
    });
    env.start = (taskQueue, input, workflowId) =>
      temporal.client.workflow.start<typeof fineTunePipeline>(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId: workflowId ?? `${input.runName}-${randomUUID().slice(0, 6)}`, args: [input] });
    env.waitForStatus = async (handle, predicate, timeoutMs = Infinity) => {
      const deadline = Date.now() + timeoutMs;
      let last: PipelineStatus | undefined;
      let kept = false;
      while (Date.now() < deadline) {
        try {
          last = await handle.query(statusQuery);
          if (predicate(last)) return last;
        } catch (err) {
          // The first workflow task may not have run yet; a replay failure is kept as evidence (and still retried).
          if (!kept && isNondeterminism(err)) kept = await saveHistory(handle, String(err)).then(() => true, () => false);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`status never matched; last: ${JSON.stringify(last)}`);
    };
  });
  return env;
}
