/** A stand-in for the pipeline in `ftpipe report` tests: a workflow whose result carries a report, optionally after a signal. */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const finish = defineSignal<[Record<string, never>]>('finish');

export async function reportResult(input: { report: unknown; waitForFinish: boolean }): Promise<{ outcome: string; report?: unknown }> {
  let finished = !input.waitForFinish;
  setHandler(finish, () => {
    finished = true;
  });
  await condition(() => finished);
  return input.report === null ? { outcome: 'succeeded' } : { outcome: 'succeeded', report: input.report };
}
