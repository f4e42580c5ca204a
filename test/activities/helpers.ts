/**
 * Activity tests: the real activity functions in Temporal's MockActivityEnvironment (a real activity Context, no
 * server), against an emulator on a fast clock, with the worker's profiles for the emulated accounts.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { azureAccess } from '../../activities/azure-access';
import type { ActivityDeps, AzureAccess } from '../../activities/deps';
import { NOT_DONE_YET } from '../../activities/waiting';
import type { AzureProfile } from '../../src/config/profile';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import { emulatorProfiles } from '../../src/stack/emulator-profiles';

export interface ActivityTestEnv {
  emu: RunningEmulator;
  deps: ActivityDeps;
  azure: AzureAccess;
}

export async function startActivityTestEnv(options: EmulatorOptions = {}, profiles?: (all: AzureProfile[]) => AzureProfile[]): Promise<ActivityTestEnv> {
  const emu = await startEmulator({ clockScale: 2000, ...options });
  const { profiles: all, env } = emulatorProfiles(emu);
  const deps: ActivityDeps = {
    config: { profiles: profiles ? profiles(all) : all },
    logger: createLogger({ level: 'silent' }),
    version: 'test',
    env: { ...process.env, ...env },
  };
  return { emu, deps, azure: azureAccess(deps) };
}

/** A mock activity context; `info` as Temporal gives it (by default a first attempt scheduled now). */
export function activityEnvironment(info: { attempt?: number; scheduledTimestampMs?: number; heartbeatDetails?: unknown } = {}): MockActivityEnvironment {
  const now = Date.now();
  const attempt = { attempt: info.attempt ?? 1, scheduledTimestampMs: info.scheduledTimestampMs ?? now, currentAttemptScheduledTimestampMs: now, heartbeatDetails: info.heartbeatDetails };
  // The SDK logs every activity failure at WARN; tests assert failures on purpose.
  return new MockActivityEnvironment(attempt, { logger: new DefaultLogger(process.env.FTPIPE_TEST_LOGS ? 'DEBUG' : 'ERROR') });
}

export interface Waited<O> {
  result: O;
  /** Every attempt's outcome before the last: the "not done yet" failures Temporal retried. */
  notYet: ApplicationFailure[];
}

/**
 * Runs a waiting activity as Temporal does (activities/waiting.ts): each attempt that ends "not done yet" is called
 * again, as attempt n+1 of the same activity, after its `nextRetryDelay`, with the last heartbeat's details. Any other
 * failure is thrown.
 */
export async function runUntilDone<O>(call: () => Promise<O>, maxAttempts = 100): Promise<Waited<O>> {
  const scheduledTimestampMs = Date.now();
  const notYet: ApplicationFailure[] = [];
  let heartbeatDetails: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const env = activityEnvironment({ attempt, scheduledTimestampMs, heartbeatDetails });
    env.on('heartbeat', (details: unknown) => (heartbeatDetails = details));
    try {
      return { result: await env.run(call), notYet };
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.type !== NOT_DONE_YET) throw err;
      assert.equal(err.nonRetryable, false, err.message);
      assert.equal(err.category, ApplicationFailureCategory.BENIGN);
      assert.equal(typeof err.nextRetryDelay, 'number', 'Temporal is told when to check again');
      notYet.push(err);
      await new Promise((resolve) => setTimeout(resolve, err.nextRetryDelay as number));
    }
  }
  throw new Error(`not done after ${maxAttempts} attempts; last: ${notYet.at(-1)?.message ?? 'none'}`);
}

/** Runs `call` (an activity call) in a mock activity context (`env`: to cancel it); `heartbeats` collects what it reported. */
export async function runActivity<O>(call: () => Promise<O>, heartbeats: unknown[] = [], env = activityEnvironment()): Promise<O> {
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return env.run(call);
}

/** Asserts an ApplicationFailure of `type`, retryable or not, whose message matches `message`. */
export function failure(type: string, nonRetryable: boolean, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    assert.equal(err.nonRetryable, nonRetryable, err.message);
    if (message) assert.match(err.message, message);
    assert.doesNotMatch(err.message, /emulator-key|ftpipe-emulator-token/, 'no secret in the message');
    return true;
  };
}

function chatJsonl(count: number, prefix: string): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(JSON.stringify({ messages: [{ role: 'user', content: `${prefix} question ${i}` }, { role: 'assistant', content: `${prefix} answer ${i}` }] }));
  }
  return `${lines.join('\n')}\n`;
}

/** Starts a fine-tuning job on the account of `profile` (not waiting for it). */
export async function startJob(t: ActivityTestEnv, profile: string, prefix = 'train'): Promise<string> {
  const client = t.azure.openai(profile);
  const file = await client.files.create({ file: new File([chatJsonl(10, prefix)], `${prefix}.jsonl`, { type: 'application/jsonl' }), purpose: 'fine-tune' });
  for (let i = 0; i < 50 && (await client.files.retrieve(file.id)).status !== 'processed'; i++) t.emu.control.advanceClock(60);
  // Global training: offered from every emulated region (Standard is not, for gpt-4.1-mini).
  const body = { model: 'gpt-4.1-mini', training_file: file.id, seed: 3, hyperparameters: { n_epochs: 3 }, trainingType: 'GlobalStandard' };
  const job = await client.fineTuning.jobs.create(body);
  return job.id;
}

/** A succeeded job on the account of `profile`: its id, fine-tuned model and kept checkpoints (oldest first). */
export async function trainedJob(t: ActivityTestEnv, profile: string): Promise<{ jobId: string; model: string; checkpoints: string[] }> {
  const client = t.azure.openai(profile);
  const jobId = await startJob(t, profile);
  for (let i = 0; i < 200; i++) {
    const job = await client.fineTuning.jobs.retrieve(jobId);
    if (job.status === 'succeeded') {
      const checkpoints = (await client.fineTuning.jobs.checkpoints.list(jobId)).data.sort((a, b) => a.step_number - b.step_number).map((c) => c.id);
      return { jobId, model: job.fine_tuned_model!, checkpoints };
    }
    t.emu.control.advanceClock(600);
  }
  throw new Error(`job ${jobId} did not succeed`);
}

export interface EmulatedDeployment {
  account: string;
  name: string;
  state: string;
  model: { name: string; source?: string };
}

export function emulatedDeployments(emu: RunningEmulator, account: string): EmulatedDeployment[] {
  return (emu.control.dumpState().deployments as unknown as EmulatedDeployment[]).filter((d) => d.account === account);
}
