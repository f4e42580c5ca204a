/** Reading the emulator's state in tests: what exists on the emulated Azure accounts. */
import type { RunningEmulator } from '../../src/emulator';
import { until } from './until';

export interface EmulatedJob {
  id: string;
  status: string;
  account: string;
  metadata?: Record<string, string> | null;
  fine_tuned_model?: string | null;
  steps_done?: number;
}

export interface EmulatedFile {
  id: string;
  filename: string;
  status: string;
  account: string;
}

export function jobsOfRun(emulator: RunningEmulator, workflowId: string): EmulatedJob[] {
  return (emulator.control.dumpState().jobs as unknown as EmulatedJob[]).filter((j) => j.metadata?.ftpipe_workflow_id === workflowId);
}

/**
 * Stops the emulated clock once the run's job runs and has trained a step, read from the emulator's own state and
 * stopped in the same tick, so that the job still trains when the test acts on it however loaded the machine is
 * (stopped once the run's status showed the step, the job had finished first at load 25). A pausing job trains no
 * further, so the clock can run on once a pause has reached Azure.
 */
export async function holdClockOnceTraining(emulator: RunningEmulator, workflowId: string, timeoutMs: number): Promise<EmulatedJob> {
  return until(async () => {
    const [job] = jobsOfRun(emulator, workflowId);
    if (job?.status !== 'running' || (job.steps_done ?? 0) < 1) return undefined;
    emulator.control.setClockScale(0);
    return job;
  }, 'the job to train a step', timeoutMs);
}

/**
 * Stops the emulated clock as soon as the run's job runs, read from the emulator's own state and stopped in the same
 * tick: the job then trains no further however slowly a loaded machine lets the run poll it, until the test sets the
 * clock going again.
 */
export async function holdClockOnceRunning(emulator: RunningEmulator, workflowId: string, timeoutMs?: number): Promise<EmulatedJob> {
  return until(async () => {
    const job = jobsOfRun(emulator, workflowId).find((j) => j.status === 'running');
    if (!job) return undefined;
    emulator.control.setClockScale(0);
    return job;
  }, 'a running job', timeoutMs);
}

export function liveFiles(emulator: RunningEmulator, ids: string[]): EmulatedFile[] {
  return (emulator.control.dumpState().files as unknown as EmulatedFile[]).filter((f) => ids.includes(f.id) && f.status !== 'deleted');
}

export function countRequests(emulator: RunningEmulator, route: string): number {
  return emulator.control.requests().filter((r) => r.route === route).length;
}

/** Names of the deployments that exist on an emulated account, sorted. */
export function deploymentNames(emulator: RunningEmulator, account: string): string[] {
  return (emulator.control.dumpState().deployments as { name: string; account: string }[]).filter((d) => d.account === account).map((d) => d.name).sort();
}
