/** A stand-in for a run's deploy stage: holds a deployment slot through workflows/slots.ts until told to release it. */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import type { PipelineInput } from '../../../src/pipeline/input';
import type { DeploymentSlot, PipelineStatus } from '../../../src/pipeline/types';
import { runSlots } from '../../../workflows/slots';

export { resourceAdmission } from '../../../workflows/admission';

export const slotsQuery = defineQuery<DeploymentSlot[]>('slots');
export const finishSignal = defineSignal<[{ release: boolean }]>('finish');

export async function deploymentSlotHolder(input: { profile: string; name: string; runName: string }): Promise<void> {
  const status = { admission: null } as unknown as PipelineStatus;
  const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });
  const slots = runSlots({
    input: { profile: input.profile, runName: input.runName, admission: { priority: 0 } } as PipelineInput,
    status, acts, now: () => new Date().toISOString(), changed: () => undefined,
  });
  let finish: { release: boolean } | undefined;
  setHandler(slotsQuery, () => status.deploymentSlots ?? []);
  setHandler(finishSignal, (f) => void (finish = f));
  await slots.acquireDeployment({ profile: input.profile, name: input.name });
  await condition(() => finish !== undefined);
  if (finish!.release) await slots.releaseDeployment({ profile: input.profile, name: input.name });
}
